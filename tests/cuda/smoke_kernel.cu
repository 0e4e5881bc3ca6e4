// Hand-written smoke kernel in the generator's portable device-C style: causal GQA flash attention, BTHD layout,
// log-sum-exp output, with the same signature and grid contract as a generated kernel. It is only the body: the CUDA
// prelude (DevicePrelude.Cuda) is put in front of it by the exporter and by the GPU runner, as for generated kernels.
// Grid: GROUP_ID(0) = block of LOCAL_SIZE(0) query rows (one thread per row), GROUP_ID(1) = head, GROUP_ID(2) = batch.

#define HEAD_DIM 64
#define HEADS 8
#define KV_HEADS 2
#define GROUP_SIZE 4 /* query heads per key/value head */
#define SCALE 0.125f
#define LOG2E 1.442695f
#define LN2 0.6931472f
#define Q_ROW_STRIDE (HEADS * HEAD_DIM)
#define KV_ROW_STRIDE (KV_HEADS * HEAD_DIM)
#ifndef BLOCK_K
#define BLOCK_K 32
#endif

KERNEL void ak_smoke_causal_gqa(
    const GLOBAL float* RESTRICT q_all,
    const GLOBAL float* RESTRICT k_all,
    const GLOBAL float* RESTRICT v_all,
    GLOBAL float* RESTRICT out_all,
    GLOBAL float* RESTRICT lse_all,
    int query_length,
    int key_length)
{
    SHARED float k_tile[BLOCK_K * HEAD_DIM];
    SHARED float v_tile[BLOCK_K * HEAD_DIM];

    const int rows = LOCAL_SIZE(0);
    const int lane = LOCAL_ID(0);
    const int head = GROUP_ID(1);
    const int batch = GROUP_ID(2);
    const int kv_head = head / GROUP_SIZE;
    const int first_query = GROUP_ID(0) * rows;
    const int query = first_query + lane;
    const int active = query < query_length;
    const int block_rows = IMIN(rows, query_length - first_query);
    const GLOBAL float* q = q_all + (((INDEX)batch * query_length + query) * HEADS + head) * HEAD_DIM;
    const GLOBAL float* k = k_all + ((INDEX)batch * key_length * KV_HEADS + kv_head) * HEAD_DIM;
    const GLOBAL float* v = v_all + ((INDEX)batch * key_length * KV_HEADS + kv_head) * HEAD_DIM;
    GLOBAL float* out = out_all + (((INDEX)batch * query_length + query) * HEADS + head) * HEAD_DIM;

    const int diagonal = key_length - query_length;
    const int key_start = 0;
    const int key_end = IMIN(key_length, first_query + block_rows + diagonal);

    float q_row[HEAD_DIM];
    float acc[HEAD_DIM];
    for (int d = 0; d < HEAD_DIM; d++)
    {
        q_row[d] = active ? q[d] * (SCALE * LOG2E) : 0.0f;
        acc[d] = 0.0f;
    }
    float row_max = NEG_INF;
    float row_sum = 0.0f;

    for (int first_key = key_start; first_key < key_end; first_key += BLOCK_K)
    {
        const int keys = IMIN(BLOCK_K, key_end - first_key);
        for (int i = lane; i < keys * HEAD_DIM; i += rows)
        {
            const int j = i / HEAD_DIM;
            const INDEX at = (INDEX)(first_key + j) * KV_ROW_STRIDE + (i - j * HEAD_DIM);
            k_tile[i] = k[at];
            v_tile[i] = v[at];
        }
        BARRIER();

        float s[BLOCK_K];
        float block_max = NEG_INF;
        for (int j = 0; j < keys; j++)
        {
            float dot = 0.0f;
            for (int d = 0; d < HEAD_DIM; d++)
                dot += q_row[d] * k_tile[j * HEAD_DIM + d];
            if (first_key + j - query > diagonal)
                dot = NEG_INF;
            s[j] = dot;
            block_max = FMAX(block_max, dot);
        }

        const float new_max = FMAX(row_max, block_max);
        if (new_max != NEG_INF)
        {
            const float correction = EXP2(row_max - new_max);
            row_sum *= correction;
            for (int d = 0; d < HEAD_DIM; d++)
                acc[d] *= correction;
            for (int j = 0; j < keys; j++)
            {
                const float p = EXP2(s[j] - new_max);
                row_sum += p;
                for (int d = 0; d < HEAD_DIM; d++)
                    acc[d] += p * v_tile[j * HEAD_DIM + d];
            }
            row_max = new_max;
        }
        BARRIER();
    }

    if (!active)
        return;
    const float inverse = row_sum > 0.0f ? 1.0f / row_sum : 0.0f;
    for (int d = 0; d < HEAD_DIM; d++)
        out[d] = acc[d] * inverse;
    lse_all[((INDEX)batch * HEADS + head) * query_length + query] = row_sum > 0.0f ? (row_max + LOG2(row_sum)) * LN2 : NEG_INF;
}
