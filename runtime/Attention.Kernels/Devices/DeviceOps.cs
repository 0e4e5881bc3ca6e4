namespace Attention.Kernels;

/// <summary>
/// The portable device-C kernels of the graph ops (everything an <c>[AttentionModel]</c> graph runs besides its fused
/// attention kernels): one program for every model, sizes passed as kernel arguments, compiled once per device through
/// the backend's kernel cache. <see cref="GraphOps"/> launches them; the definitions match <see cref="Cpu.CpuOps"/>.
/// </summary>
/// <remarks>
/// Written only against the <see cref="DevicePrelude"/> macros, so the same text compiles as OpenCL C and as CUDA C.
/// Row kernels (norms, pooling, squeeze-excitation) run one work-group per row with a power-of-two group of at most
/// <see cref="GroupMax"/> work-items and reduce through local memory; element-wise kernels are grid-stride loops;
/// Linear is a GEMM tiled through local memory. See docs/runtime/graph-ops.md.
/// </remarks>
public static partial class DeviceOps
{
    /// <summary>Most work-items of a row kernel's work-group (the size of its local reduction array).</summary>
    public const int GroupMax = 256;

    /// <summary>Output rows and columns of y one Linear work-group computes.</summary>
    public const int LinearTile = 64;

    /// <summary>Work-items per axis of a Linear work-group (each owns LinearTile/LinearThreads squared outputs).</summary>
    public const int LinearThreads = 16;

    /// <summary>The device-C source of every graph op (entry points <c>ak_linear</c>, <c>ak_map</c>, <c>ak_norm</c>, …).</summary>
    public const string Source = """
        // Attention.Kernels graph ops (runtime/Attention.Kernels/Devices/DeviceOps.cs).
        // Portable device C: compiled after a backend prelude (OpenCL C or CUDA C) that defines KERNEL, GLOBAL, SHARED,
        // SHARED_PTR, RESTRICT, AK_DEVICE_FN, BARRIER(), BARRIER_GLOBAL(), LOCAL_ID(d), GROUP_ID(d), LOCAL_SIZE(d), NUM_GROUPS(d),
        // INDEX, EXP, TANH, ERFC, SQRT, FMAX, NEG_INF. Sizes are kernel arguments, so one program serves every model.
        // Layouts are row-major fp32; weights use PyTorch's layouts ([out, in] for a linear layer).

        #define GROUP_MAX 256   /* work-items of a row kernel: a power of two <= GROUP_MAX, chosen by the launcher */
        #define TILE 64         /* Linear: a work-group computes a TILE x TILE block of y */
        #define TILE_PAD 65     /* local tiles padded by one float, so the transposed stores spread over the banks */
        #define TILE_K 16       /* Linear: reduction columns staged per step */
        #define THREADS 16      /* Linear: THREADS x THREADS work-items ... */
        #define BLOCK 4         /* ... each owning BLOCK x BLOCK outputs, THREADS apart (TILE = THREADS * BLOCK) */

        #define ACTIVATION_RELU 1  /* Attention.Kernels.Activation.Relu */
        #define ACTIVATION_GELU 2  /* Attention.Kernels.Activation.Gelu */

        /* Activation.None, Relu or Gelu. GELU is the exact one: 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2),
           written with erfc so neither sign loses digits to cancellation. */
        AK_DEVICE_FN float activate(float v, int activation)
        {
            if (activation == ACTIVATION_RELU)
                return FMAX(v, 0.0f);
            if (activation == ACTIVATION_GELU)
                return 0.5f * v * ERFC(-0.70710678118654752f * v);
            return v;
        }

        /* The logistic function, through e^(-|v|) so nothing overflows. */
        AK_DEVICE_FN float sigmoid(float v)
        {
            if (v >= 0.0f)
                return 1.0f / (1.0f + EXP(-v));
            const float e = EXP(v);
            return e / (1.0f + e);
        }

        /* Sum of value over the work-group (LOCAL_SIZE(0) a power of two), returned to every work-item. Every work-item
           must call it (it holds barriers); scratch is the caller's SHARED float[GROUP_MAX]. */
        AK_DEVICE_FN float group_sum(SHARED_PTR float* scratch, float value)
        {
            const int lane = LOCAL_ID(0);
            scratch[lane] = value;
            BARRIER();
            for (int stride = LOCAL_SIZE(0) / 2; stride > 0; stride /= 2)
            {
                if (lane < stride)
                    scratch[lane] += scratch[lane + stride];
                BARRIER();
            }
            const float total = scratch[0];
            BARRIER(); /* scratch is reused by the next call */
            return total;
        }

        /* ---- Linear: y = act(x W^T + bias) + residual --------------------------------------------------------------
           x [rows, in], W [out, in], bias [out] or NULL, residual [rows, out] or NULL (it may be y itself: each output is
           read, then written, by the same work-item). A THREADS x THREADS work-group computes a TILE x TILE block of y:
           GROUP_ID(0) = block of rows, GROUP_ID(1) = block of columns. Work-item (LOCAL_ID(0), LOCAL_ID(1)) = (column lane,
           row lane) owns the outputs (row lane + THREADS i, column lane + THREADS j), so neighbouring work-items read and
           write neighbouring columns. K advances TILE_K at a time: the group stages TILE rows of x and of W in local
           memory, k-major, then every work-item updates its BLOCK x BLOCK register block. */
        KERNEL void ak_linear(
            const GLOBAL float* RESTRICT x, const GLOBAL float* RESTRICT weight, const GLOBAL float* RESTRICT bias,
            const GLOBAL float* residual, GLOBAL float* y, int rows, int in_features, int out_features, int activation)
        {
            SHARED float x_tile[TILE_K * TILE_PAD];
            SHARED float w_tile[TILE_K * TILE_PAD];
            const int column_lane = LOCAL_ID(0), row_lane = LOCAL_ID(1);
            const int lane = row_lane * THREADS + column_lane;
            const int first_row = GROUP_ID(0) * TILE, first_column = GROUP_ID(1) * TILE;

            float acc[BLOCK][BLOCK];
            for (int i = 0; i < BLOCK; i++)
                for (int j = 0; j < BLOCK; j++)
                    acc[i][j] = 0.0f;

            for (int k0 = 0; k0 < in_features; k0 += TILE_K)
            {
                /* Stage: consecutive work-items read consecutive k of one row (zeros past the edges). */
                for (int e = lane; e < TILE * TILE_K; e += THREADS * THREADS)
                {
                    const int r = e / TILE_K, kk = e - r * TILE_K, k = k0 + kk;
                    const int row = first_row + r, column = first_column + r;
                    x_tile[kk * TILE_PAD + r] = row < rows && k < in_features ? x[(INDEX)row * in_features + k] : 0.0f;
                    w_tile[kk * TILE_PAD + r] = column < out_features && k < in_features ? weight[(INDEX)column * in_features + k] : 0.0f;
                }
                BARRIER();
                for (int kk = 0; kk < TILE_K; kk++)
                {
                    float a[BLOCK], b[BLOCK];
                    for (int i = 0; i < BLOCK; i++)
                        a[i] = x_tile[kk * TILE_PAD + row_lane + THREADS * i];
                    for (int j = 0; j < BLOCK; j++)
                        b[j] = w_tile[kk * TILE_PAD + column_lane + THREADS * j];
                    for (int i = 0; i < BLOCK; i++)
                        for (int j = 0; j < BLOCK; j++)
                            acc[i][j] += a[i] * b[j];
                }
                BARRIER(); /* the tiles are restaged by the next step */
            }

            /* Epilogue on the accumulators (bias, activation, residual): y is written once. */
            for (int i = 0; i < BLOCK; i++)
            {
                const int row = first_row + row_lane + THREADS * i;
                if (row >= rows)
                    continue;
                for (int j = 0; j < BLOCK; j++)
                {
                    const int column = first_column + column_lane + THREADS * j;
                    if (column >= out_features)
                        continue;
                    const INDEX at = (INDEX)row * out_features + column;
                    float v = activate(acc[i][j] + (bias != 0 ? bias[column] : 0.0f), activation);
                    if (residual != 0)
                        v += residual[at];
                    y[at] = v;
                }
            }
        }

        /* ---- Element-wise ops: grid-stride loops over count floats ---------------------------------------------- */

        /* y = act(x) + other (other NULL: y = act(x)). Residual adds and standalone activations; y may equal x or other. */
        KERNEL void ak_map(const GLOBAL float* x, const GLOBAL float* other, GLOBAL float* y, INDEX count, int activation)
        {
            const INDEX grid_stride = (INDEX)NUM_GROUPS(0) * LOCAL_SIZE(0);
            for (INDEX i = (INDEX)GROUP_ID(0) * LOCAL_SIZE(0) + LOCAL_ID(0); i < count; i += grid_stride)
            {
                float v = activate(x[i], activation);
                if (other != 0)
                    v += other[i];
                y[i] = v;
            }
        }

        /* Positional weighting: y[b, t, f] = x[b, t, f] (1 + p[t, f]), p [max_length, features]; count = batch length features. */
        KERNEL void ak_positional(const GLOBAL float* x, const GLOBAL float* RESTRICT p, GLOBAL float* y, INDEX count, int length, int features)
        {
            const INDEX grid_stride = (INDEX)NUM_GROUPS(0) * LOCAL_SIZE(0);
            for (INDEX i = (INDEX)GROUP_ID(0) * LOCAL_SIZE(0) + LOCAL_ID(0); i < count; i += grid_stride)
            {
                const INDEX row = i / features;
                const int f = (int)(i - row * features);
                const int t = (int)(row % length);
                y[i] = x[i] * (1.0f + p[(INDEX)t * features + f]);
            }
        }

        /* Layer-wise mix, up to four layers per launch: y = (accumulate ? y : 0) + c0 l0 + c1 l1 + c2 l2 + c3 l3, where
           c = gamma softmax(logits) was computed on the host and unused layers are NULL. Layers are added in order. */
        KERNEL void ak_layer_mix(GLOBAL float* y, const GLOBAL float* l0, const GLOBAL float* l1, const GLOBAL float* l2,
            const GLOBAL float* l3, float c0, float c1, float c2, float c3, INDEX count, int accumulate)
        {
            const INDEX grid_stride = (INDEX)NUM_GROUPS(0) * LOCAL_SIZE(0);
            for (INDEX i = (INDEX)GROUP_ID(0) * LOCAL_SIZE(0) + LOCAL_ID(0); i < count; i += grid_stride)
            {
                float v = accumulate ? y[i] : 0.0f;
                v += c0 * l0[i];
                if (l1 != 0)
                    v += c1 * l1[i];
                if (l2 != 0)
                    v += c2 * l2[i];
                if (l3 != 0)
                    v += c3 * l3[i];
                y[i] = v;
            }
        }

        /* ---- Normalization: one work-group per row ----------------------------------------------------------------
           centered (LayerNorm, biased variance): y = (x - mean) / sqrt(var + epsilon) gamma + beta;
           not centered (RMSNorm): y = x / sqrt(mean(x^2) + epsilon) gamma. gamma and beta may be NULL (ones, zeros).
           Statistics in two passes over the row (the mean, then the squares about it), like the CPU op. */
        KERNEL void ak_norm(const GLOBAL float* x, const GLOBAL float* RESTRICT gamma, const GLOBAL float* RESTRICT beta,
            GLOBAL float* y, int features, float epsilon, int centered)
        {
            SHARED float scratch[GROUP_MAX];
            const int lane = LOCAL_ID(0), size = LOCAL_SIZE(0);
            const INDEX start = (INDEX)GROUP_ID(0) * features;
            x += start;
            y += start;

            float mean = 0.0f;
            if (centered)
            {
                float sum = 0.0f;
                for (int f = lane; f < features; f += size)
                    sum += x[f];
                mean = group_sum(scratch, sum) / features;
            }
            float squares = 0.0f;
            for (int f = lane; f < features; f += size)
            {
                const float d = x[f] - mean;
                squares += d * d;
            }
            const float scale = 1.0f / SQRT(group_sum(scratch, squares) / features + epsilon);
            for (int f = lane; f < features; f += size)
            {
                float v = (x[f] - mean) * scale;
                if (gamma != 0)
                    v *= gamma[f];
                if (beta != 0)
                    v += beta[f];
                y[f] = v;
            }
        }

        /* ---- Attention pooling: an online softmax over tokens, one work-group per pooled vector -------------------
           A level scores a token by u.x (hidden == 0) or u.tanh(W x + b) (W [hidden, features], b [hidden] or NULL).
           The group shares each score (a reduction); each work-item accumulates its own features of the output. */

        /* The score of one token, the same value in every work-item. */
        AK_DEVICE_FN float pool_score(const GLOBAL float* token, int features, const GLOBAL float* u, const GLOBAL float* w,
            const GLOBAL float* b, int hidden, SHARED_PTR float* scratch)
        {
            float partial = 0.0f;
            if (hidden == 0)
            {
                for (int f = LOCAL_ID(0); f < features; f += LOCAL_SIZE(0))
                    partial += u[f] * token[f];
            }
            else
            {
                for (int j = LOCAL_ID(0); j < hidden; j += LOCAL_SIZE(0))
                {
                    const GLOBAL float* row = w + (INDEX)j * features;
                    float a = 0.0f;
                    for (int f = 0; f < features; f++)
                        a += row[f] * token[f];
                    partial += u[j] * TANH(a + (b != 0 ? b[j] : 0.0f));
                }
            }
            return group_sum(scratch, partial);
        }

        /* Adds one scored token to the online softmax of (max, sum, acc), acc being this work-item's features of out: a
           score that raises the max rescales the sum and acc once; otherwise the token costs one exp and one axpy. No
           barrier: it may sit under a data-dependent condition. */
        AK_DEVICE_FN void pool_update(float score, const GLOBAL float* token, int features, GLOBAL float* out,
            float* running_max, float* running_sum)
        {
            float p = 1.0f;
            if (score > *running_max)
            {
                const float correction = EXP(*running_max - score); /* 0 for the first token */
                *running_sum *= correction;
                for (int f = LOCAL_ID(0); f < features; f += LOCAL_SIZE(0))
                    out[f] *= correction;
                *running_max = score;
            }
            else
            {
                p = EXP(score - *running_max);
            }
            *running_sum += p;
            for (int f = LOCAL_ID(0); f < features; f += LOCAL_SIZE(0))
                out[f] += p * token[f];
        }

        /* Scores one token (a group reduction: every work-item must call it) and adds it to the online softmax. */
        AK_DEVICE_FN void pool_add(const GLOBAL float* token, int features, const GLOBAL float* u, const GLOBAL float* w,
            const GLOBAL float* b, int hidden, GLOBAL float* out, float* running_max, float* running_sum, SHARED_PTR float* scratch)
        {
            pool_update(pool_score(token, features, u, w, b, hidden, scratch), token, features, out, running_max, running_sum);
        }

        /* out = acc / sum (zeros when no token was added). */
        AK_DEVICE_FN void pool_finish(GLOBAL float* out, int features, float sum)
        {
            const float inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
            for (int f = LOCAL_ID(0); f < features; f += LOCAL_SIZE(0))
                out[f] *= inverse;
        }

        AK_DEVICE_FN void pool_clear(GLOBAL float* out, int features)
        {
            for (int f = LOCAL_ID(0); f < features; f += LOCAL_SIZE(0))
                out[f] = 0.0f;
        }

        /* y[b] = sum_t softmax_t(score(x[b, t])) x[b, t]; x [batch, length, features], y [batch, features]; GROUP_ID(0) = b. */
        KERNEL void ak_attention_pooling(const GLOBAL float* RESTRICT x, const GLOBAL float* RESTRICT u, const GLOBAL float* RESTRICT w,
            const GLOBAL float* RESTRICT b, GLOBAL float* RESTRICT y, int length, int features, int hidden)
        {
            SHARED float scratch[GROUP_MAX];
            const INDEX row = GROUP_ID(0);
            const GLOBAL float* tokens = x + row * length * features;
            GLOBAL float* out = y + row * features;
            pool_clear(out, features);
            float running_max = NEG_INF, running_sum = 0.0f;
            for (int t = 0; t < length; t++)
                pool_add(tokens + (INDEX)t * features, features, u, w, b, hidden, out, &running_max, &running_sum, scratch);
            pool_finish(out, features, running_sum);
        }

        /* Hierarchical attention, word level: GROUP_ID(0) = b * segments + s pools the tokens [offsets[b, s], offsets[b, s + 1])
           into vectors[b, s] (zeros for an empty segment). offsets [batch, segments + 1] were validated by the host. */
        KERNEL void ak_hierarchical_words(const GLOBAL float* RESTRICT x, const GLOBAL int* RESTRICT offsets,
            const GLOBAL float* RESTRICT u, const GLOBAL float* RESTRICT w, const GLOBAL float* RESTRICT b,
            GLOBAL float* RESTRICT vectors, int length, int features, int segments, int hidden)
        {
            SHARED float scratch[GROUP_MAX];
            const int item = GROUP_ID(0);
            const int row = item / segments, segment = item - row * segments;
            const GLOBAL int* o = offsets + (INDEX)row * (segments + 1) + segment;
            const int start = o[0], end = o[1];
            const GLOBAL float* tokens = x + ((INDEX)row * length + start) * features;
            GLOBAL float* out = vectors + (INDEX)item * features;
            pool_clear(out, features);
            float running_max = NEG_INF, running_sum = 0.0f;
            for (int t = 0; t < end - start; t++)
                pool_add(tokens + (INDEX)t * features, features, u, w, b, hidden, out, &running_max, &running_sum, scratch);
            pool_finish(out, features, running_sum);
        }

        /* Hierarchical attention, segment level: GROUP_ID(0) = b pools the vectors of b's non-empty segments into y[b]. */
        KERNEL void ak_hierarchical_segments(const GLOBAL float* RESTRICT vectors, const GLOBAL int* RESTRICT offsets,
            const GLOBAL float* RESTRICT u, const GLOBAL float* RESTRICT w, const GLOBAL float* RESTRICT b,
            GLOBAL float* RESTRICT y, int features, int segments, int hidden)
        {
            SHARED float scratch[GROUP_MAX];
            const INDEX row = GROUP_ID(0);
            const GLOBAL int* o = offsets + row * (segments + 1);
            GLOBAL float* out = y + row * features;
            pool_clear(out, features);
            float running_max = NEG_INF, running_sum = 0.0f;
            for (int s = 0; s < segments; s++)
            {
                /* Every segment is scored, empty ones too (their vector is zeros): the score's barriers must not sit under
                   a condition read from memory. PoCL miscompiled that form (timing-dependent wrong results). */
                const GLOBAL float* vector = vectors + (row * segments + s) * features;
                const float score = pool_score(vector, features, u, w, b, hidden, scratch);
                if (o[s + 1] > o[s])
                    pool_update(score, vector, features, out, &running_max, &running_sum);
            }
            pool_finish(out, features, running_sum);
        }

        /* ---- Squeeze-and-excitation, two kernels ----------------------------------------------------------------
           ak_squeeze (one work-group per batch row): s = mean_t x[b, t, :]; h = relu(W1 s + b1) (W1 [reduced, channels]);
           excitation[b] = sigmoid(W2 h + b2) (W2 [channels, reduced]); hidden [batch, reduced] is scratch.
           ak_excite: y[b, t, c] = x[b, t, c] excitation[b, c]. */
        KERNEL void ak_squeeze(const GLOBAL float* RESTRICT x, const GLOBAL float* RESTRICT w1, const GLOBAL float* RESTRICT b1,
            const GLOBAL float* RESTRICT w2, const GLOBAL float* RESTRICT b2, GLOBAL float* RESTRICT excitation,
            GLOBAL float* RESTRICT hidden, int length, int channels, int reduced)
        {
            const int lane = LOCAL_ID(0), size = LOCAL_SIZE(0);
            const INDEX row = GROUP_ID(0);
            const GLOBAL float* rows = x + row * length * channels;
            GLOBAL float* e = excitation + row * channels;
            GLOBAL float* h = hidden + row * reduced;

            /* The mean over time, one channel per work-item (neighbours read neighbouring channels). */
            const float inverse_length = 1.0f / length;
            for (int c = lane; c < channels; c += size)
            {
                float sum = 0.0f;
                for (int t = 0; t < length; t++)
                    sum += rows[(INDEX)t * channels + c];
                e[c] = sum * inverse_length;
            }
            BARRIER_GLOBAL(); /* every work-item reads every channel's mean */
            for (int j = lane; j < reduced; j += size)
            {
                const GLOBAL float* weights = w1 + (INDEX)j * channels;
                float a = 0.0f;
                for (int c = 0; c < channels; c++)
                    a += weights[c] * e[c];
                h[j] = FMAX(a + (b1 != 0 ? b1[j] : 0.0f), 0.0f);
            }
            BARRIER_GLOBAL(); /* the means are overwritten below, and every work-item reads all of h */
            for (int c = lane; c < channels; c += size)
            {
                const GLOBAL float* weights = w2 + (INDEX)c * reduced;
                float a = 0.0f;
                for (int j = 0; j < reduced; j++)
                    a += weights[j] * h[j];
                e[c] = sigmoid(a + (b2 != 0 ? b2[c] : 0.0f));
            }
        }

        KERNEL void ak_excite(const GLOBAL float* x, const GLOBAL float* RESTRICT excitation, GLOBAL float* y, INDEX count, int length, int channels)
        {
            const INDEX grid_stride = (INDEX)NUM_GROUPS(0) * LOCAL_SIZE(0);
            for (INDEX i = (INDEX)GROUP_ID(0) * LOCAL_SIZE(0) + LOCAL_ID(0); i < count; i += grid_stride)
            {
                const INDEX position = i / channels; /* b * length + t */
                const int c = (int)(i - position * channels);
                y[i] = x[i] * excitation[position / length * channels + c];
            }
        }
        """;
}
