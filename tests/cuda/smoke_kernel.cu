// Attention.Kernels device prelude: CUDA C++ (NVRTC).
#define KERNEL extern "C" __global__
#define GLOBAL
#define SHARED __shared__
#define RESTRICT __restrict__
#define BARRIER() __syncthreads()
#define LOCAL_ID(d) ((int)((d) == 0 ? threadIdx.x : (d) == 1 ? threadIdx.y : threadIdx.z))
#define GROUP_ID(d) ((int)((d) == 0 ? blockIdx.x : (d) == 1 ? blockIdx.y : blockIdx.z))
#define LOCAL_SIZE(d) ((int)((d) == 0 ? blockDim.x : (d) == 1 ? blockDim.y : blockDim.z))
#define NUM_GROUPS(d) ((int)((d) == 0 ? gridDim.x : (d) == 1 ? gridDim.y : gridDim.z))
#define INDEX long long
#define EXP2(x) exp2f(x)
#define LOG2(x) log2f(x)
#define FMAX(a, b) fmaxf(a, b)
#define IMIN(a, b) min(a, b)
#define IMAX(a, b) max(a, b)
#define NEG_INF (-__int_as_float(0x7f800000))
#define EXP(x) expf(x)
#define TANH(x) tanhf(x)
#define ERFC(x) erfcf(x)
#define SQRT(x) sqrtf(x)
#define SHARED_PTR
#define BARRIER_GLOBAL() __syncthreads()
#define STORAGE_F16 unsigned short
#define LOAD_F16(p, i) ak_half_to_float((p)[i])
#define STORE_F16(p, i, x) ((p)[i] = ak_float_to_half(x))
#define AK_DEVICE_FN static __device__ __forceinline__
#define AK_U16 unsigned short
#define AK_U32 unsigned int
#define AK_AS_UINT(x) __float_as_uint(x)
#define AK_AS_FLOAT(u) __uint_as_float(u)
// fp16 <-> fp32 with the PTX conversions (round to nearest even), so no cuda_fp16.h is needed.
AK_DEVICE_FN float ak_half_to_float(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
AK_DEVICE_FN unsigned short ak_float_to_half(float f) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
// Storage types: kernels LOAD elements as float, compute in float, and STORE rounded to nearest even.
#define STORAGE_F32 float
#define LOAD_F32(p, i) ((p)[i])
#define STORE_F32(p, i, x) ((p)[i] = (x))
// bfloat16 = the upper 16 bits of a float. Same rounding as the host's BFloat16: add half an ulp minus one unless the
// kept part is odd (ties to even; a carry bumps the exponent, past the largest finite value to infinity); NaN stays a
// quiet NaN with its sign and upper payload, never infinity.
#define STORAGE_BF16 AK_U16
#define LOAD_BF16(p, i) AK_AS_FLOAT((AK_U32)(p)[i] << 16)
#define STORE_BF16(p, i, x) ((p)[i] = ak_float_to_bf16(x))
AK_DEVICE_FN AK_U16 ak_float_to_bf16(float x)
{
    const AK_U32 bits = AK_AS_UINT(x);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
        return (AK_U16)((bits >> 16) | 0x0040u);
    return (AK_U16)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}
#line 1
// Hand-written smoke kernel in the generator's portable device-C style (macro prelude above), standing in for the
// generated DeviceSource until the OpenCL branch's emitter is merged: causal GQA flash attention, BTHD layout,
// log-sum-exp output. Same signature and grid contract as a generated kernel.
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
