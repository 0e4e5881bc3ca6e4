using System.Linq;
using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Emit;

/// <summary>
/// Writes one fused attention kernel: the partial method body, and a nested <c>{Name}Kernel</c> struct with the
/// compile-time constants, the cost model, shape validation and the CPU kernel. The struct implements the runtime's
/// <c>IAttentionKernel</c>: every backend specializes on it (the CPU backend runs the generated SIMD kernel, an ILGPU
/// accelerator instantiates its attention kernel generic over the struct), and the device of the tensors picks the backend.
/// </summary>
internal static class AttentionEmitter
{
    public static void Emit(CodeWriter w, KernelMethodInfo method, AttentionNode node)
    {
        string kernel = method.Name + "Kernel";
        bool bthd = node.Layout == LayoutKind.BTHD;
        string qShape = node.IsVarlen ? $"[TotalQ, H={node.Heads}, D={node.HeadDim}]"
            : bthd ? $"[B, Tq, H={node.Heads}, D={node.HeadDim}]" : $"[B, H={node.Heads}, Tq, D={node.HeadDim}]";
        string kvShape = node.IsVarlen ? $"[TotalK, KvH={node.KvHeads}, D={node.HeadDim}]"
            : bthd ? $"[B, Tk, KvH={node.KvHeads}, D={node.HeadDim}]" : $"[B, KvH={node.KvHeads}, Tk, D={node.HeadDim}]";
        string tensor = Names.TensorOf(node.Storage);

        WriteRemarks(w, kernel, node, qShape, kvShape);
        w.Line(Names.GeneratedCode);
        w.Line($"{Modifiers(method)}static partial void {method.Name}({Signature(method)}) =>");
        w.Line($"    {kernel}.Launch({Arguments(method)});");
        w.Line();

        w.Line($"/// <summary>The fused kernel behind <see cref=\"{method.Name}\"/>: compile-time constants, cost model, shape checks, CPU kernel.</summary>");
        w.Line(Names.GeneratedCode);
        w.Open($"{Modifiers(method)}readonly struct {kernel} : {Names.AttentionKernel}");
        WriteConstants(w, node);
        WriteCost(w, node);
        WriteKernelContract(w, node);
        WriteLaunch(w, kernel, node, tensor, qShape, kvShape);
        WriteCpuLaunch(w, node);
        WriteCpuKernel(w, node);
        w.Close();
    }

    /// <summary>The user's parameter names, in order (the generated body passes them on).</summary>
    private static string Arguments(KernelMethodInfo method) => string.Join(", ", method.Parameters.Select(p => p.Name));

    internal static string Modifiers(KernelMethodInfo method) => method.Modifiers.Length == 0 ? "" : method.Modifiers + " ";

    internal static string Signature(KernelMethodInfo method)
    {
        var parts = new string[method.Parameters.Count];
        for (int i = 0; i < parts.Length; i++)
            parts[i] = method.Parameters[i].Type + " " + method.Parameters[i].Name;
        return string.Join(", ", parts);
    }

    /// <summary>
    /// The mask's diagonal d as a C# expression of the CPU kernel's fields (query i sees keys j ≤ i + d), or null for no
    /// mask: Tk − Tq for the bottom-right aligned kinds (FlashAttention's convention), 0 for the top-left aligned
    /// CausalTopLeft (PyTorch's is_causal). The one place the generated CPU kernel's alignment is decided; the key range
    /// and the element masking both read it (AttentionGeometry.Diagonal and the ILGPU kernel's Diagonal agree).
    /// </summary>
    internal static string? DiagonalExpression(MaskKind mask, bool varlen = false) => mask switch
    {
        MaskKind.Causal or MaskKind.SlidingWindow => varlen ? "KeySpanOf(batch) - QueriesOf(batch)" : "KeyLength - QueryLength",
        MaskKind.CausalTopLeft => "0",
        _ => null,
    };

    /// <summary>The mask's rule in words, for the generated docs and comments (<paramref name="window"/>: how to name the window).</summary>
    private static string MaskRule(MaskKind mask, string window) => mask switch
    {
        MaskKind.Causal => "Causal, aligned bottom-right (FlashAttention): query i sees keys j ≤ i + (Tk − Tq)",
        MaskKind.CausalTopLeft => "Causal, aligned top-left (PyTorch's is_causal): query i sees keys j ≤ i, whatever Tq and Tk",
        MaskKind.SlidingWindow => $"Sliding window, aligned bottom-right: query i sees keys i + (Tk − Tq) − {window} < j ≤ i + (Tk − Tq)",
        _ => "No mask: every query sees every key",
    };

    /// <summary>
    /// The kernel's one score modifier as a C# expression of (score, batch, head, query, key): the user's ScoreMod, then
    /// the ALiBi bias, then soft-capping, each only when declared ("score" for none). The one place the order is decided.
    /// </summary>
    internal static string ScoreModExpression(AttentionNode node)
    {
        string score = node.ScoreMod is null ? "score" : $"{node.ScoreMod}(score, batch, head, query, key{node.ScoreModTensors})";
        if (node.Alibi)
            score = $"{score} + {AlibiSlope(node.Heads)} * (key - query)";
        if (node.SoftCap > 0)
            score = $"{Names.Float(node.SoftCap)} * global::System.MathF.Tanh(({score}) / {Names.Float(node.SoftCap)})";
        return score;
    }

    /// <summary>
    /// ALiBi's slope of query head <c>head</c> (Press et al.'s get_slopes): with c the largest power of two ≤ H, heads below c
    /// get 2^(−8(h+1)/c), and the rest every other slope of 2c heads, 2^(−4(2(h − c) + 1)/c). Up to 64 heads a switch of
    /// exact constants (powers of two are exact in fp32); beyond, the formula.
    /// </summary>
    private static string AlibiSlope(int heads)
    {
        int c = 1;
        while (c * 2 <= heads)
            c *= 2;
        if (heads <= 64)
        {
            // Constants, not Pow: the CPU calls the score modifier per element, and a switch is a table lookup there.
            var cases = new System.Text.StringBuilder("(head switch { ");
            for (int h = 0; h < heads; h++)
            {
                double exponent = h < c ? -8.0 * (h + 1) / c : -4.0 * (2 * (h - c) + 1) / c;
                cases.Append(h).Append(" => ").Append(Names.Float(System.Math.Pow(2, exponent))).Append(", ");
            }
            return cases.Append("_ => 0f })").ToString();
        }
        string first = $"global::System.MathF.Pow(2f, -8f * (head + 1) / {c})";
        return c == heads ? first : $"(head < {c} ? {first} : global::System.MathF.Pow(2f, -4f * (2 * (head - {c}) + 1) / {c}))";
    }

    /// <summary>The method name of a modifier's call target (global::Ns.Type.Method → Method).</summary>
    private static string ModName(string target) => target.Substring(target.LastIndexOf('.') + 1);

    private static void WriteRemarks(CodeWriter w, string kernel, AttentionNode node, string qShape, string kvShape)
    {
        string maskText = node.Mask switch
        {
            MaskKind.Causal => " + causal mask",
            MaskKind.CausalTopLeft => " + top-left causal mask",
            MaskKind.SlidingWindow => $" + sliding-window mask ({node.Window} keys)",
            _ => "",
        };
        w.Line("/// <remarks>");
        w.Line($"/// <para><b>Fused scaled dot-product attention</b> (generated): output = softmax({Names.Float(node.Scale)} · q·kᵀ{maskText}) · v,");
        w.Line("/// in one kernel that streams key/value blocks with an online softmax; the Tq×Tk score matrix is never stored.</para>");
        w.Line($"/// <para>Shapes ({(node.IsVarlen ? "packed variable-length, token-major" : node.Layout.ToString())}): q and output {qShape}; k and v {kvShape}" +
               (node.HasLogSumExp ? (node.IsVarlen ? $"; logSumExp [H={node.Heads}, TotalQ]" : $"; logSumExp [B, H={node.Heads}, Tq]") : "") + ".</para>");
        if (node.IsVarlen)
            w.Line("/// <para>Packed variable-length batch (FlashAttention's varlen; docs/kernels/masks.md): sequence b is query rows queryOffsets[b] .. queryOffsets[b + 1] − 1 " +
                   "and key rows keyOffsets[b] .. keyOffsets[b + 1] − 1 ([B + 1] ints each); it attends to its own keys only, " +
                   "with the mask aligned on its own lengths, and no padding is computed. Modifiers see batch = b and positions within the sequence.</para>");
        if (node.GroupSize > 1)
            w.Line($"/// <para>{(node.KvHeads == 1 ? "Multi-query" : "Grouped-query")} attention: {node.GroupSize} query heads share each key/value head; K and V are read in place, never repeated.</para>");
        if (node.Mask != MaskKind.None)
        {
            string skipped = node.Mask == MaskKind.SlidingWindow ? "Key blocks outside the band are skipped." : "Key blocks above the diagonal are skipped, not computed.";
            w.Line($"/// <para>{MaskRule(node.Mask, node.Window.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("<", "&lt;")}. {skipped}</para>");
            w.Line("/// <para>A query that sees no key gets zeros (and a log-sum-exp of −∞), never NaN.</para>");
        }
        if (node.Alibi || node.SoftCap > 0)
            w.Line("/// <para>Built-in score modifiers (docs/kernels/mods.md), after any ScoreMod: " +
                   (node.Alibi ? $"ALiBi adds slope_h·(key − query) with Press's slopes for {node.Heads} heads" : "") +
                   (node.Alibi && node.SoftCap > 0 ? ", then " : "") +
                   (node.SoftCap > 0 ? $"soft-capping makes s {Names.Float(node.SoftCap)}·tanh(s / {Names.Float(node.SoftCap)})" : "") +
                   ". The CPU kernel always runs in tiles.</para>");
        if (node.ScoreMod is not null || node.MaskMod is not null)
        {
            w.Line("/// <para>Modifiers (docs/kernels/mods.md): " +
                   (node.ScoreMod is not null ? $"each visible score s = scale·q·k becomes <c>{ModName(node.ScoreMod)}(s, batch, head, query, key)</c> before the softmax" : "") +
                   (node.HasMods && node.ScoreMod is not null && node.MaskMod is not null ? "; " : "") +
                   (node.MaskMod is not null ? $"query sees key only where <c>{ModName(node.MaskMod)}(batch, head, query, key)</c> is true (AND the mask), and key blocks it hides from a whole query tile are skipped" : "") +
                   ". The CPU kernel always runs in tiles (no decode row path); the cost model counts the built-in mask only.</para>");
        }
        if (node.MaskTensor != MaskTensorKind.None)
            w.Line("/// <para>Mask tensor (PyTorch SDPA's attn_mask; docs/kernels/masks.md): attnMask broadcasts to [B, H, Tq, Tk] " +
                   "([Tq, Tk], [B|1, H|1, Tq|1, Tk|1], …); " +
                   (node.MaskTensor == MaskTensorKind.Boolean
                       ? "a pair takes part only where it is true (ANDed with the mask). "
                       : "it is added to each scaled score (after a score modifier); −∞ hides the pair. ") +
                   "The CPU kernel always runs in tiles and reads it per element.</para>");
        if (node.DocumentMask)
            w.Line("/// <para>Document mask (docs/kernels/masks.md): query q and key k of batch entry b see each other only where documentIds[b, q] == documentIds[b, k] " +
                   "([B, T] ints, self-attention: Tq = Tk, checked before the launch; ANDed with the other masks). The CPU kernel compares each query tile's and " +
                   "key block's id ranges: blocks whose ranges do not meet are skipped, blocks of one shared document run no element test. It always runs in tiles.</para>");
        if (node.PrefixLm)
            w.Line("/// <para>Prefix-LM (docs/kernels/masks.md): query q of batch entry b sees key k iff k &lt; prefixLengths[b] or k ≤ q ([B] ints, each 0..Tk, " +
                   "checked before the launch): the prefix is bidirectional, the rest causal, aligned top-left. Key blocks past both are never visited.</para>");
        if (node.HasKeyLengths)
            w.Line("/// <para>Key padding (docs/kernels/masks.md): batch entry b sees only keys j &lt; keyLengths[b] ([B] ints, each 0..Tk, checked before the launch); " +
                   "the keys past it are never read. " + (node.Mask == MaskKind.None ? "" : "The mask is aligned on the full Tk first. ") +
                   "A query left with no key gets zeros (and a log-sum-exp of −∞).</para>");
        if (node.Storage != ElementType.Float32)
            w.Line($"/// <para>Storage {node.Storage.ShortName()} (<c>Tensor&lt;{node.Storage.DisplayName()}&gt;</c>): every product, sum and the softmax run in fp32; " +
                   "the output is rounded once, to nearest even" + (node.HasLogSumExp ? ", and the log-sum-exp stays fp32" : "") +
                   ". On the CPU the kernel reads the 16-bit values in place and widens them in its tiles (no whole-tensor copy).</para>");
        w.Line($"/// <para>Constants and the cost model: <see cref=\"{kernel}\"/>.</para>");
        w.Line("/// </remarks>");
    }

    internal static void WriteConstants(CodeWriter w, AttentionNode node)
    {
        w.Line("/// <summary>Length of one head's query, key and value vectors.</summary>");
        w.Line($"public const int HeadDim = {node.HeadDim};");
        w.Line("/// <summary>Query heads.</summary>");
        w.Line($"public const int Heads = {node.Heads};");
        w.Line("/// <summary>Key/value heads.</summary>");
        w.Line($"public const int KvHeads = {node.KvHeads};");
        w.Line("/// <summary>Query heads per key/value head: query head h reads key/value head h / GroupSize.</summary>");
        w.Line($"public const int GroupSize = {node.GroupSize};");
        w.Line("/// <summary>Which keys each query sees.</summary>");
        w.Line($"public const {Names.AttentionMask} Mask = {Names.AttentionMask}.{node.Mask};");
        w.Line("/// <summary>Keys per query under a sliding-window mask (0 otherwise).</summary>");
        w.Line($"public const int Window = {node.Window};");
        w.Line($"/// <summary>Multiplier of q·kᵀ{(System.Math.Abs(node.Scale - 1.0 / System.Math.Sqrt(node.HeadDim)) < 1e-12 ? $" (1/√{node.HeadDim})" : "")}.</summary>");
        w.Line($"public const float Scale = {Names.Float(node.Scale)};");
        if (node.Layout != LayoutKind.PackedQkv)
        {
            w.Line("/// <summary>Layout of q, k, v and output.</summary>");
            w.Line($"public const {Names.TensorLayout} Layout = {Names.TensorLayout}.{node.Layout};");
        }
        w.Line();
    }

    internal static void WriteCost(CodeWriter w, AttentionNode node)
    {
        bool fp32 = node.Storage == ElementType.Float32;
        bool dataAware = (node.DocumentMask || node.PrefixLm) && !node.IsVarlen;
        // The tensors that decide which pairs are visible, in Launch's order: the data-aware overload takes them.
        var tensors = new System.Collections.Generic.List<string>();
        if (node.HasKeyLengths)
            tensors.Add("keyLengths");
        if (node.DocumentMask)
            tensors.Add("documentIds");
        if (node.PrefixLm)
            tensors.Add("prefixLengths");
        w.Line("/// <summary>");
        w.Line("/// Cost of one launch: 4·D FLOPs per visible (query, key) pair (q·k and p·v, a multiply-add counting 2; masked pairs");
        w.Line("/// are skipped and not counted), the bytes of q, k, v and outputs each moved once, and the CPU kernel's per-core scratch" +
               (fp32 ? "." : $" (with the fp32 copy of a {node.Storage.ShortName()} key/value head its tiles reread)."));
        w.Line("/// The pairs are those the built-in Mask shows" + (node.MaskMod is not null ? " (the mask modifier is not evaluated: an upper bound)" : "") +
               (dataAware ? $": an upper bound where {string.Join(", ", tensors)} hide pairs; the overload that reads them counts exactly." : "."));
        w.Line("/// </summary>");
        w.Line($"public static {Names.KernelCost} Cost(int batch, int queryLength, int keyLength) =>");
        w.Line($"    CostOfPairs(batch, queryLength, keyLength, batch * {Names.Geometry}.VisiblePairs(queryLength, keyLength, Mask, Window));");
        w.Line();
        if (dataAware)
        {
            w.Line("/// <summary>");
            w.Line("/// Cost of one launch with these " + string.Join(", ", tensors) + ": as the shape-only Cost, counting exactly the pairs the");
            w.Line("/// kernel computes under the built-in rules (Mask, " + string.Join(", ", tensors) + ")" +
                   (node.MaskMod is not null ? "; the mask modifier is not evaluated (an upper bound)." : "."));
            w.Line("/// The tensors are read back to the host: O(B·T log T) (AttentionGeometry.VisiblePairs).");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A tensor's shape does not match [B] or [B, T].</exception>");
            w.Line($"public static {Names.KernelCost} Cost(int batch, int queryLength, int keyLength, " + string.Join(", ", tensors.Select(t => $"{Names.IntTensor} {t}")) + ") =>");
            w.Line($"    CostOfPairs(batch, queryLength, keyLength, {Names.Geometry}.VisiblePairs(batch, queryLength, keyLength, Mask, Window, " +
                   $"{(node.HasKeyLengths ? "keyLengths" : "null")}, {(node.DocumentMask ? "documentIds" : "null")}, {(node.PrefixLm ? "prefixLengths" : "null")}));");
            w.Line();
        }
        w.Line("/// <summary>The cost of a launch computing <paramref name=\"pairs\"/> (query, key) pairs per head over its batch.</summary>");
        w.Open($"private static {Names.KernelCost} CostOfPairs(int batch, int queryLength, int keyLength, double pairs)");
        w.Line("double flops = 4.0 * Heads * HeadDim * pairs;");
        w.Line("double elements = 2.0 * batch * queryLength * Heads * HeadDim + 2.0 * batch * keyLength * KvHeads * HeadDim;" +
               (fp32 ? "" : $" // {node.Storage.ShortName()}: 2 bytes each"));
        w.Line($"double bytes = elements * {(fp32 ? "sizeof(float)" : node.Storage.Size().ToString(System.Globalization.CultureInfo.InvariantCulture))}" +
               (node.HasLogSumExp ? " + (double)batch * Heads * queryLength * sizeof(float);" : ";"));
        w.Line($"return new {Names.KernelCost}(flops, bytes, {Names.Flash}.ScratchBytes(HeadDim{(node.Layout == LayoutKind.BHTD && fp32 ? "" : ", keyLength")}));");
        w.Close();
        w.Line();
    }

    /// <summary>
    /// The explicit <c>IAttentionKernel</c> members: the constants above, as the backends read them when they specialize
    /// on this struct, and the CPU kernel.
    /// </summary>
    internal static void WriteKernelContract(CodeWriter w, AttentionNode node)
    {
        string contract = Names.AttentionKernel;
        string layout = node.Layout switch
        {
            LayoutKind.BHTD => "Bhtd",
            LayoutKind.PackedQkv => "PackedQkv",
            _ => "Bthd",
        };
        w.Line("// The kernel contract: what every backend specializes on (an ILGPU accelerator compiles these as literals).");
        w.Line($"static int {contract}.HeadDim => HeadDim;");
        w.Line($"static int {contract}.Heads => Heads;");
        w.Line($"static int {contract}.KvHeads => KvHeads;");
        w.Line($"static {Names.AttentionMask} {contract}.Mask => Mask;");
        w.Line($"static int {contract}.Window => Window;");
        w.Line($"static float {contract}.Scale => Scale;");
        w.Line($"static {Names.KernelLayout} {contract}.Layout => {Names.KernelLayout}.{layout};");
        w.Line($"static bool {contract}.HasLogSumExp => {(node.HasLogSumExp ? "true" : "false")};");
        if (node.HasMods)
            w.Line("// The modifiers (docs/kernels/mods.md): every backend calls these per (query, key) pair; the score is in natural units.");
        w.Line($"static bool {contract}.HasScoreMod => {(node.HasScoreModifier ? "true" : "false")};");
        w.Line($"static bool {contract}.HasMaskMod => {(node.MaskMod is not null ? "true" : "false")};");
        w.Line($"static float {contract}.ScoreMod<TInt, TFloat>(float score, int batch, int head, int query, int key, in {Names.Runtime}.ModTensors<TInt, TFloat> tensors) => " +
               ScoreModExpression(node) + ";");
        w.Line($"static bool {contract}.MaskMod<TInt, TFloat>(int batch, int head, int query, int key, in {Names.Runtime}.ModTensors<TInt, TFloat> tensors) => " +
               (node.MaskMod is null ? "true;" : $"{node.MaskMod}(batch, head, query, key{node.MaskModTensors});"));
        if (node.ModTensors.Count > 0)
            w.Line("// The tensors the modifiers read, in declaration order (a launch's ModTensors; bit n of FloatModTensors: slot n is float).");
        w.Line($"static int {contract}.ModTensorCount => {node.ModTensors.Count};");
        w.Line($"static int {contract}.FloatModTensors => {node.FloatModTensors};");
        if (node.ModTensors.Count > 0)
            w.Line($"static string? {contract}.ModTensorName(int slot) => slot switch {{ " +
                   string.Concat(node.ModTensors.Select((t, i) => $"{i} => \"{t.Name}\", ")) + "_ => null };");
        w.Line($"static bool {contract}.IsVarlen => {(node.IsVarlen ? "true" : "false")};");
        w.Line($"static {Names.MaskTensorKind} {contract}.MaskTensor => {Names.MaskTensorKind}.{node.MaskTensor};");
        w.Line($"static bool {contract}.DocumentMask => {(node.DocumentMask ? "true" : "false")};");
        w.Line($"static bool {contract}.PrefixLm => {(node.PrefixLm ? "true" : "false")};");
        w.Line($"static unsafe void {contract}.RunCpu<T>(T* q, T* k, T* v, T* output, float* lse, int* keyLengths, int* queryOffsets, int* keyOffsets,");
        w.Line($"    int* documentIds, int* prefixLengths, void* attnMask, {Names.MaskStrides} maskStrides, int batch, int queryLength, int keyLength, in {Names.CpuModTensors} modTensors) =>");
        w.Line("    RunCpuKernel(q, k, v, output, lse, keyLengths, queryOffsets, keyOffsets, documentIds, prefixLengths, attnMask, maskStrides, batch, queryLength, keyLength, modTensors);");
        w.Line();
    }

    private static void WriteLaunch(CodeWriter w, string kernel, AttentionNode node, string tensor, string qShape, string kvShape)
    {
        bool bthd = node.Layout == LayoutKind.BTHD;
        int seqAxis = bthd ? 1 : 2;
        string q = bthd ? "batch, queryLength, Heads, HeadDim" : "batch, Heads, queryLength, HeadDim";
        string kv = bthd ? "batch, keyLength, KvHeads, HeadDim" : "batch, KvHeads, keyLength, HeadDim";
        string element = Model.ElementTypes.CSharpType(node.Storage);

        w.Line("/// <summary>Checks shapes and devices, then runs the kernel on the tensors' device (which picks its backend).</summary>");
        w.Line($"/// <exception cref=\"global::System.ArgumentException\">A tensor's shape or device does not match; the message names the tensor and both shapes.</exception>");
        w.Open($"public static void Launch({tensor} q, {tensor} k, {tensor} v, {tensor} output{(node.HasLogSumExp ? $", {Names.Tensor} logSumExp" : "")}" +
               $"{(node.HasKeyLengths ? $", {Names.IntTensor} keyLengths" : "")}" +
               (node.MaskTensor switch { MaskTensorKind.Boolean => $", {Names.BoolTensor} attnMask", MaskTensorKind.Additive => $", {Names.Tensor} attnMask", _ => "" }) +
               (node.DocumentMask ? $", {Names.IntTensor} documentIds" : "") + (node.PrefixLm ? $", {Names.IntTensor} prefixLengths" : "") +
               $"{(node.IsVarlen ? $", {Names.IntTensor} queryOffsets, {Names.IntTensor} keyOffsets" : "")}" +
               string.Concat(node.ModTensors.Select(t => $", {(t.IsFloat ? Names.Tensor : Names.IntTensor)} {t.Name}")) + ")");
        if (node.IsVarlen)
        {
            WriteVarlenChecks(w, kernel, node, element, qShape, kvShape);
            w.Close();
            w.Line();
            return;
        }
        w.Line("// Runtime sizes come from the tensors; everything else was fixed at compile time.");
        w.Line($"{Names.TensorShape}.ExpectRank(q, nameof(q), \"{qShape}\", 4);");
        w.Line($"{Names.TensorShape}.ExpectRank(k, nameof(k), \"{kvShape}\", 4);");
        w.Line($"int batch = q.Dim(0), queryLength = q.Dim({seqAxis}), keyLength = k.Dim({seqAxis});");
        w.Line($"{Names.TensorShape}.Expect(q, nameof(q), \"{qShape}\", {q});");
        w.Line($"{Names.TensorShape}.Expect(k, nameof(k), \"{kvShape}\", {kv});");
        w.Line($"{Names.TensorShape}.Expect(v, nameof(v), \"{kvShape}\", {kv});");
        w.Line($"{Names.TensorShape}.Expect(output, nameof(output), \"{qShape}\", {q});");
        if (node.HasLogSumExp)
            w.Line($"{Names.TensorShape}.Expect(logSumExp, nameof(logSumExp), \"[B, H={node.Heads}, Tq]\", batch, Heads, queryLength);");
        WriteDeviceChecks(w, node);
        if (node.HasKeyLengths)
            w.Line($"{Names.TensorShape}.ExpectLengths(keyLengths, nameof(keyLengths), batch, keyLength, \"Tk of k \" + {Names.TensorShape}.Format(k.Shape), device);");
        if (node.MaskTensor != MaskTensorKind.None)
            w.Line($"{Names.TensorShape}.ExpectMask(attnMask, nameof(attnMask), batch, Heads, queryLength, keyLength, device);");
        if (node.DocumentMask)
            w.Line($"{Names.TensorShape}.ExpectDocumentIds(documentIds, nameof(documentIds), batch, queryLength, keyLength, \"q \" + {Names.TensorShape}.Format(q.Shape) + \", k \" + {Names.TensorShape}.Format(k.Shape), device);");
        if (node.PrefixLm)
            w.Line($"{Names.TensorShape}.ExpectLengths(prefixLengths, nameof(prefixLengths), batch, keyLength, \"Tk of k \" + {Names.TensorShape}.Format(k.Shape), device);");
        w.Line(node.Storage == ElementType.Float32
            ? "// The device runs this kernel: the CPU its generated SIMD code below, an accelerator its kernel specialized on this struct."
            : $"// The device runs this kernel: an accelerator reads and writes {node.Storage.ShortName()} directly, the CPU the kernel below over {node.Storage.ShortName()} (widened in its tiles, the output rounded to nearest even).");
        var inputs = new System.Collections.Generic.List<string>();
        if (node.HasKeyLengths)
            inputs.Add("KeyLengths = keyLengths");
        if (node.MaskTensor != MaskTensorKind.None)
            inputs.Add($"{node.MaskTensor}Mask = attnMask");
        if (node.DocumentMask)
            inputs.Add("DocumentIds = documentIds");
        if (node.PrefixLm)
            inputs.Add("PrefixLengths = prefixLengths");
        if (node.ModTensors.Count > 0)
            inputs.Add(ModTensorArgs(node));
        w.Line($"device.RunAttention<{kernel}, {element}>(new {Names.Runtime}.AttentionLaunch<{element}>(q, k, v, output, {(node.HasLogSumExp ? "logSumExp" : "null")}, batch, queryLength, keyLength)" +
               (inputs.Count > 0 ? " { " + string.Join(", ", inputs) + " });" : ");"));
        w.Close();
        w.Line();
    }

    /// <summary>Every tensor of the launch on q's device (declared as <c>device</c> for the launch).</summary>
    private static void WriteDeviceChecks(CodeWriter w, AttentionNode node)
    {
        w.Line("var device = q.Device;");
        w.Line($"{Names.TensorShape}.ExpectDevice(k, nameof(k), device);");
        w.Line($"{Names.TensorShape}.ExpectDevice(v, nameof(v), device);");
        w.Line($"{Names.TensorShape}.ExpectDevice(output, nameof(output), device);");
        if (node.HasLogSumExp)
            w.Line($"{Names.TensorShape}.ExpectDevice(logSumExp, nameof(logSumExp), device);");
        if (node.ModTensors.Count > 0)
            w.Line("// The tensors the modifiers read: their shapes are the modifiers' business (docs/kernels/mods.md), their device is checked.");
        foreach (var tensor in node.ModTensors)
            w.Line($"{Names.TensorShape}.ExpectDevice({tensor.Name}, nameof({tensor.Name}), device);");
    }

    /// <summary>The launch's <c>ModTensors</c> initializer: the modifier tensors in declaration order.</summary>
    private static string ModTensorArgs(AttentionNode node) =>
        $"ModTensors = new {Names.Runtime}.ModTensorArgs({string.Join(", ", node.ModTensors.Select(t => t.Name))})";

    /// <summary>
    /// The checks of a packed variable-length launch: token-major q, k, v and output, the log-sum-exp [H, TotalQ], both
    /// offsets [B + 1] (0 first, never decreasing, the total last); the launch then carries the longest lengths.
    /// </summary>
    private static void WriteVarlenChecks(CodeWriter w, string kernel, AttentionNode node, string element, string qShape, string kvShape)
    {
        w.Line("// Runtime sizes come from the tensors and the offsets; everything else was fixed at compile time.");
        w.Line($"{Names.TensorShape}.ExpectRank(q, nameof(q), \"{qShape}\", 3);");
        w.Line($"{Names.TensorShape}.ExpectRank(k, nameof(k), \"{kvShape}\", 3);");
        w.Line("int totalQueries = q.Dim(0), totalKeys = k.Dim(0);");
        w.Line($"{Names.TensorShape}.Expect(q, nameof(q), \"{qShape}\", totalQueries, Heads, HeadDim);");
        w.Line($"{Names.TensorShape}.Expect(k, nameof(k), \"{kvShape}\", totalKeys, KvHeads, HeadDim);");
        w.Line($"{Names.TensorShape}.Expect(v, nameof(v), \"{kvShape}\", totalKeys, KvHeads, HeadDim);");
        w.Line($"{Names.TensorShape}.Expect(output, nameof(output), \"{qShape}\", totalQueries, Heads, HeadDim);");
        if (node.HasLogSumExp)
            w.Line($"{Names.TensorShape}.Expect(logSumExp, nameof(logSumExp), \"[H={node.Heads}, TotalQ]\", Heads, totalQueries);");
        WriteDeviceChecks(w, node);
        w.Line("// The launch's lengths are the longest sequence's (FlashAttention's max_seqlen_q and max_seqlen_k).");
        w.Line($"var (batch, queryLength) = {Names.TensorShape}.ExpectOffsets(queryOffsets, nameof(queryOffsets), totalQueries, \"TotalQ of q \" + {Names.TensorShape}.Format(q.Shape), device);");
        w.Line($"var (_, keyLength) = {Names.TensorShape}.ExpectOffsets(keyOffsets, nameof(keyOffsets), totalKeys, \"TotalK of k \" + {Names.TensorShape}.Format(k.Shape), device, batch);");
        w.Line($"device.RunAttention<{kernel}, {element}>(new {Names.Runtime}.AttentionLaunch<{element}>(q, k, v, output, {(node.HasLogSumExp ? "logSumExp" : "null")}, batch, queryLength, keyLength)" +
               " { QueryOffsets = queryOffsets, KeyOffsets = keyOffsets" + (node.ModTensors.Count > 0 ? ", " + ModTensorArgs(node) : "") + " });");
    }

    /// <summary>The CPU launch: picks row mode (decode) or tile mode and runs the kernel on all cores.</summary>
    internal static void WriteCpuLaunch(CodeWriter w, AttentionNode node)
    {
        w.Line("/// <summary>Runs the CPU kernel over raw pointers to elements of T = float, Half or BFloat16 (shapes already checked; lse, keyLengths, the varlen offsets, documentIds, prefixLengths and attnMask may be null).</summary>");
        w.Line("internal static unsafe void RunCpuKernel<T>(T* q, T* k, T* v, T* output, float* lse, int* keyLengths, int* queryOffsets, int* keyOffsets,");
        w.Open($"    int* documentIds, int* prefixLengths, void* attnMask, {Names.MaskStrides} maskStrides, int batch, int queryLength, int keyLength, in {Names.CpuModTensors} modTensors) where T : unmanaged");
        w.Line("// A few query rows (decode): work items are (batch, query row, chunk of heads[, part of the keys]), lanes over the head dim.");
        w.Line("// Otherwise (query tile, batch, head) with QueryTileRows rows per tile, lanes over the queries.");
        if (node.HasElementPass)
        {
            w.Line(node.HasMods
                ? "// The decode row path does not run modifiers: this kernel always uses tiles."
                : node.MaskTensor != MaskTensorKind.None
                    ? "// The decode row path does not read a mask tensor: this kernel always uses tiles."
                    : "// The decode row path does not compare document ids: this kernel always uses tiles.");
            w.Line("bool rowMode = false;");
        }
        else
            w.Line($"bool rowMode = queryLength <= {Names.Flash}.RowModeMaxQueries;");
        w.Line($"int tileRows = rowMode ? 1 : {Names.Flash}.QueryTileRows;");
        w.Line("// Row items: heads kept together while cutting each row's keys into parts (split-K) feeds the cores; see RowModePartition.");
        w.Line($"var (headsPerItem, keySplits) = rowMode ? {Names.Flash}.RowModePartition(Heads, batch * queryLength, keyLength, headsAdjacent: {(node.Layout == LayoutKind.BHTD ? "false" : "true")}) : (1, 1);");
        w.Open("var kernel = new CpuKernel<T>");
        w.Line("Q = q, K = k, V = v, O = output, Lse = lse, KeyLengths = keyLengths,");
        if (node.IsVarlen)
            w.Line("QueryOffsets = queryOffsets, KeyOffsets = keyOffsets, TotalQueries = queryOffsets[batch], // lengths below are the longest sequence's");
        if (node.MaskTensor != MaskTensorKind.None)
            w.Line($"AttnMask = ({(node.MaskTensor == MaskTensorKind.Boolean ? "bool" : "float")}*)attnMask, MaskStrides = maskStrides,");
        if (node.DocumentMask)
            w.Line("DocumentIds = documentIds,");
        if (node.PrefixLm)
            w.Line("PrefixLengths = prefixLengths,");
        w.Line("QueryLength = queryLength,");
        w.Line("KeyLength = keyLength,");
        w.Line("TileRows = tileRows,");
        if (node.ScoreMod is not null || node.MaskMod is not null)
            w.Line("ModTensors = modTensors,");
        if (node.MaskMod is not null)
        {
            w.Line($"BlockMasks = rowMode ? null : {Names.Flash}.BlockMasks<CpuKernel<T>>(batch, Heads, queryLength, keyLength, tileRows),");
            w.Line($"BlocksPerTile = {Names.Flash}.BlocksPerTile(keyLength),");
        }
        w.Line("QueryTiles = (queryLength + tileRows - 1) / tileRows,");
        w.Line("HeadsPerItem = headsPerItem,");
        w.Line("KeySplits = keySplits,");
        w.Line($"Launch = {Names.Flash}.NextLaunch(),");
        w.Close(";");
        w.Line("int items = rowMode ? batch * queryLength * (Heads / headsPerItem) : batch * Heads * kernel.QueryTiles;");
        w.Line("if (keySplits > 1) // each part leaves a partial state, merged in a second pass");
        w.Line($"    kernel.RowParts = {Names.Flash}.RowParts(items * keySplits, headsPerItem, HeadDim);");
        w.Line($"{Names.CpuParallel}.For(items * keySplits, ref kernel, rowMode ? 1 : {Names.Flash}.TileGrain(kernel.QueryTiles, items));");
        w.Open("if (keySplits > 1)");
        w.Line("kernel.MergingParts = true;");
        w.Line($"{Names.CpuParallel}.For(items, ref kernel, 1);");
        w.Close();
        w.Close();
        w.Line();
    }

    internal static void WriteCpuKernel(CodeWriter w, AttentionNode node)
    {
        w.Line("/// <summary>");
        w.Line("/// CPU kernel: work items spread over all cores. A tile item streams the key/value blocks its query rows can");
        w.Line("/// see with an online softmax (see FlashAttentionCpu for the SIMD tile steps); a row item (decode) does the");
        w.Line("/// same for one query position of several heads with FlashAttentionCpu.AttendRow.");
        w.Line("/// </summary>");
        bool userMods = node.ScoreMod is not null || node.MaskMod is not null;
        w.Open($"private unsafe struct CpuKernel<T> : {Names.CpuBody}" + (userMods ? $", {Names.Runtime}.Cpu.IElementMods" : "") + " where T : unmanaged");
        if (userMods)
        {
            w.Line("// The user's modifiers alone, for the scalar element pass: the built-in ALiBi and soft-capping run vectorized after it.");
            w.Line($"static bool {Names.Runtime}.Cpu.IElementMods.HasScoreMod => {(node.ScoreMod is not null ? "true" : "false")};");
            w.Line($"static bool {Names.Runtime}.Cpu.IElementMods.HasMaskMod => {(node.MaskMod is not null ? "true" : "false")};");
            w.Line($"static float {Names.Runtime}.Cpu.IElementMods.ScoreMod(float score, int batch, int head, int query, int key, in {Names.CpuModTensors} tensors) => " +
                   (node.ScoreMod is null ? "score;" : $"{node.ScoreMod}(score, batch, head, query, key{node.ScoreModTensors});"));
            w.Line($"static bool {Names.Runtime}.Cpu.IElementMods.MaskMod(int batch, int head, int query, int key, in {Names.CpuModTensors} tensors) => " +
                   (node.MaskMod is null ? "true;" : $"{node.MaskMod}(batch, head, query, key{node.MaskModTensors});"));
            w.Line($"static bool {Names.Runtime}.Cpu.IElementMods.MaskModReadsTensors => {(node.MaskModTensors.Length > 0 ? "true" : "false")};");
            w.Line();
        }
        w.Line("public T* Q, K, V, O; // stored as T (float, Half or BFloat16): the tiles widen to fp32 and round the output once");
        w.Line("public float* Lse;");
        w.Line("public int* KeyLengths; // key padding: real keys per batch entry, or null (all KeyLength keys are real)");
        if (userMods)
            w.Line($"public {Names.CpuModTensors} ModTensors; // the tensors the modifiers read (default without any)");
        if (node.MaskMod is not null)
        {
            w.Line("public long[]? BlockMasks; // the mask modifier's block classes for this launch shape (null: too big to cache)");
            w.Line("public int BlocksPerTile; // slots per tile item in BlockMasks");
        }
        if (node.MaskTensor != MaskTensorKind.None)
        {
            w.Line($"public {(node.MaskTensor == MaskTensorKind.Boolean ? "bool" : "float")}* AttnMask; // PyTorch's attn_mask, broadcast over [B, H, Tq, Tk] by MaskStrides");
            w.Line($"public {Names.MaskStrides} MaskStrides;");
        }
        if (node.DocumentMask)
            w.Line("public int* DocumentIds; // the document mask's ids [B, T] (self-attention: one id per position for queries and keys)");
        if (node.PrefixLm)
            w.Line("public int* PrefixLengths; // prefix-LM: the bidirectional prefix of each batch entry [B]");
        if (node.IsVarlen)
        {
            w.Line("public int* QueryOffsets, KeyOffsets; // packed variable-length batch: sequence b's rows are [Offsets[b], Offsets[b + 1])");
            w.Line("public int TotalQueries; // rows of q and output, the log-sum-exp's row stride");
        }
        w.Line("public int QueryLength, KeyLength, TileRows, QueryTiles, HeadsPerItem;");
        w.Line("public int KeySplits; // parts of each row item's keys (split-K); the parts' partial states go to RowParts");
        w.Line("public float* RowParts;");
        w.Line("public bool MergingParts; // the second pass of a split launch: one item per row item, merging its parts");
        w.Line("public long Launch; // identifies this launch to the per-worker contiguous K/V copies");
        w.Line();
        w.Line("// Distance in elements between consecutive sequence positions of one head.");
        switch (node.Layout)
        {
            case LayoutKind.BTHD:
                w.Line("private const int QueryRowStride = Heads * HeadDim, KeyRowStride = KvHeads * HeadDim, OutputRowStride = QueryRowStride;");
                break;
            case LayoutKind.BHTD:
                w.Line("private const int QueryRowStride = HeadDim, KeyRowStride = HeadDim, OutputRowStride = HeadDim;");
                break;
            case LayoutKind.PackedQkv:
                w.Line("// q, k and v are read in place from the packed projection [B, T, (Heads + 2·KvHeads)·HeadDim]: no split, no copy.");
                w.Line("private const int QueryRowStride = (Heads + 2 * KvHeads) * HeadDim, KeyRowStride = QueryRowStride, OutputRowStride = Heads * HeadDim;");
                break;
        }
        w.Line();
        w.Line("// Fully optimized at first call (no tier 0, no OSR): one launch calls these few times, so tiering would keep them slow for seconds on 1 CPU.");
        w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
        w.Open("public void Invoke(int index, int worker)");
        w.Line("// Simd.UseVector512 is a JIT-time constant: only one of these calls is compiled.");
        w.Line($"if ({Names.Simd}.UseVector512)");
        w.Line($"    Item<{Names.Vector512}>(index, worker);");
        w.Line("else");
        w.Line($"    Item<{Names.Vector256}>(index, worker);");
        w.Close();
        w.Line();
        w.Open("private void Item<TVec>(int index, int worker) where TVec : struct");
        w.Line("if (TileRows == 1)");
        w.Line("    Row<TVec>(index, worker);");
        w.Line("else");
        w.Line("    Tile<TVec>(index, worker);");
        w.Close();
        w.Line();

        if (node.IsVarlen)
        {
            w.Line("// Packed variable-length batch: sequence b's query rows and key rows (q, k, v are token-major [Total, heads, D]).");
            w.Line("private readonly int QueryStart(int batch) => QueryOffsets[batch];");
            w.Line("private readonly int QueriesOf(int batch) => QueryOffsets[batch + 1] - QueryOffsets[batch];");
            w.Line("private readonly int KeyStart(int batch) => KeyOffsets[batch];");
            w.Line("private readonly int KeySpanOf(int batch) => KeyOffsets[batch + 1] - KeyOffsets[batch];");
            w.Line("/// <summary>Keys sequence <paramref name=\"batch\"/> attends to: its own (a packed batch has no padding).</summary>");
            w.Line("private readonly int KeysOf(int batch) => KeySpanOf(batch);");
        }
        else
        {
            w.Line("/// <summary>Real keys of batch entry <paramref name=\"batch\"/>: the rest is padding, never read (AttentionLaunch.KeyLengths; clamped, so never out of bounds).</summary>");
            w.Line("private readonly int KeysOf(int batch) => KeyLengths == null ? KeyLength : global::System.Math.Clamp(KeyLengths[batch], 0, KeyLength);");
        }
        if (node.PrefixLm)
            w.Line("/// <summary>Prefix-LM: the bidirectional prefix of <paramref name=\"batch\"/> (clamped to 0..KeyLength, so never out of bounds).</summary>");
        if (node.PrefixLm)
            w.Line("private readonly int PrefixOf(int batch) => global::System.Math.Clamp(PrefixLengths[batch], 0, KeyLength);");
        w.Line();
        w.Line("/// <summary>Keys [keyStart, keyEnd) that some query of [firstQuery, firstQuery + rows) of <paramref name=\"batch\"/> sees (exact for one row).</summary>");
        w.Open("private readonly void KeyRange(int batch, int firstQuery, int rows, out int keyStart, out int keyEnd)");
        string? diagonal = DiagonalExpression(node.Mask, node.IsVarlen);
        string placed = node.IsVarlen ? "// each sequence's diagonal is placed on its own lengths (docs/kernels/masks.md)."
            : "// the diagonal is placed on the full Tk, then key padding cuts the range (docs/kernels/masks.md).";
        switch (node.Mask)
        {
            case MaskKind.Causal:
            case MaskKind.CausalTopLeft:
                w.Line($"// {MaskRule(node.Mask, "Window")}. Keys past the last row's diagonal are never visited;");
                w.Line(placed);
                w.Line($"int diagonal = {diagonal};");
                w.Line("keyStart = 0;");
                w.Line("keyEnd = global::System.Math.Min(KeysOf(batch), firstQuery + rows + diagonal);");
                break;
            case MaskKind.SlidingWindow:
                w.Line($"// {MaskRule(node.Mask, "Window")}. Only that band is visited;");
                w.Line(placed);
                w.Line($"int diagonal = {diagonal};");
                w.Line("keyStart = global::System.Math.Max(0, firstQuery + diagonal - Window + 1);");
                w.Line("keyEnd = global::System.Math.Min(KeysOf(batch), firstQuery + rows + diagonal);");
                break;
            default:
                w.Line($"// {MaskRule(node.Mask, "Window")}, except the key padding.");
                w.Line("keyStart = 0;");
                w.Line("keyEnd = KeysOf(batch);");
                break;
        }
        if (node.PrefixLm)
        {
            w.Line("// Prefix-LM: row i sees keys [0, max(prefix, i + 1)), so the tile's last row bounds the range (exact for one row).");
            w.Line("keyEnd = global::System.Math.Min(keyEnd, global::System.Math.Max(PrefixOf(batch), firstQuery + rows));");
        }
        w.Close();
        w.Line();

        w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
        w.Open("private void Row<TVec>(int index, int worker) where TVec : struct");
        w.Line("// Work item → (batch, query row, chunk of HeadsPerItem consecutive heads[, part of the keys]).");
        w.Line("int split = MergingParts ? 0 : index % KeySplits;");
        w.Line("int rowItem = MergingParts ? index : index / KeySplits;");
        w.Line("index = rowItem;");
        w.Line("int chunks = Heads / HeadsPerItem;");
        w.Line("int firstHead = index % chunks * HeadsPerItem;");
        w.Line("int query = index / chunks % QueryLength;");
        w.Line("int batch = index / (chunks * QueryLength);");
        string lseHeadStride = node.IsVarlen ? "TotalQueries" : "QueryLength";
        if (node.IsVarlen)
        {
            w.Line("if (query >= QueriesOf(batch))");
            w.Line("    return; // QueryLength is the longest sequence's: this one is shorter");
            w.Line("T* q = Q + ((long)(QueryStart(batch) + query) * Heads + firstHead) * HeadDim;");
            w.Line("T* o = O + ((long)(QueryStart(batch) + query) * Heads + firstHead) * HeadDim;");
            w.Line("T* k = K + (long)KeyStart(batch) * KvHeads * HeadDim;");
            w.Line("T* v = V + (long)KeyStart(batch) * KvHeads * HeadDim;");
            w.Line("const long queryHeadStride = HeadDim, kvHeadStride = HeadDim;");
        }
        else if (node.Layout == LayoutKind.PackedQkv)
        {
            w.Line("T* q = Q + (long)(batch * QueryLength + query) * QueryRowStride + firstHead * HeadDim;");
            w.Line("T* o = O + (long)(batch * QueryLength + query) * OutputRowStride + firstHead * HeadDim;");
            w.Line("T* k = K + (long)batch * KeyLength * KeyRowStride + Heads * HeadDim;");
            w.Line("T* v = V + (long)batch * KeyLength * KeyRowStride + (Heads + KvHeads) * HeadDim;");
            w.Line("const long queryHeadStride = HeadDim, kvHeadStride = HeadDim;");
        }
        else if (node.Layout == LayoutKind.BTHD)
        {
            w.Line("T* q = Q + ((long)(batch * QueryLength + query) * Heads + firstHead) * HeadDim;");
            w.Line("T* o = O + ((long)(batch * QueryLength + query) * Heads + firstHead) * HeadDim;");
            w.Line("T* k = K + (long)batch * KeyLength * KvHeads * HeadDim;");
            w.Line("T* v = V + (long)batch * KeyLength * KvHeads * HeadDim;");
            w.Line("const long queryHeadStride = HeadDim, kvHeadStride = HeadDim;");
        }
        else
        {
            w.Line("T* q = Q + ((long)(batch * Heads + firstHead) * QueryLength + query) * HeadDim;");
            w.Line("T* o = O + ((long)(batch * Heads + firstHead) * QueryLength + query) * HeadDim;");
            w.Line("T* k = K + (long)batch * KvHeads * KeyLength * HeadDim;");
            w.Line("T* v = V + (long)batch * KvHeads * KeyLength * HeadDim;");
            w.Line("long queryHeadStride = (long)QueryLength * HeadDim, kvHeadStride = (long)KeyLength * HeadDim;");
        }
        w.Line(node.IsVarlen
            ? "float* lse = Lse == null ? null : Lse + (long)firstHead * TotalQueries + QueryStart(batch) + query; // [H, TotalQ]"
            : "float* lse = Lse == null ? null : Lse + (long)(batch * Heads + firstHead) * QueryLength + query;");
        w.Line("KeyRange(batch, query, 1, out int keyStart, out int keyEnd);");
        w.Open("if (keyEnd <= keyStart)");
        w.Line($"{Names.Flash}.StoreEmpty(o, queryHeadStride, HeadsPerItem, HeadDim, lse, {lseHeadStride});");
        w.Line("return;");
        w.Close();
        w.Open("if (KeySplits > 1)");
        w.Line($"int partFloats = {Names.Flash}.RowPartFloats(HeadsPerItem, HeadDim);");
        w.Line("float* parts = RowParts + (long)rowItem * KeySplits * partFloats;");
        w.Open("if (MergingParts)");
        w.Line($"{Names.Flash}.MergeRowParts(parts, KeySplits, HeadsPerItem, HeadDim, o, queryHeadStride, lse, {lseHeadStride});");
        w.Line("return;");
        w.Close();
        w.Line("int length = keyEnd - keyStart, from = keyStart + (int)((long)length * split / KeySplits);");
        w.Line("int to = keyStart + (int)((long)length * (split + 1) / KeySplits);");
        w.Line($"{Names.Flash}.AttendRow<TVec, T>(worker, q, queryHeadStride, firstHead, HeadsPerItem, GroupSize, k + (long)from * KeyRowStride, v + (long)from * KeyRowStride,");
        w.Line($"    KeyRowStride, kvHeadStride, to - from, HeadDim, Scale, o, lse, {lseHeadStride}, parts + split * partFloats);");
        w.Line("return;");
        w.Close();
        w.Line("// The key range is exact for one row, so no mask; K and V are streamed once for all the item's heads.");
        w.Line($"{Names.Flash}.AttendRow<TVec, T>(worker, q, queryHeadStride, firstHead, HeadsPerItem, GroupSize, k + (long)keyStart * KeyRowStride, v + (long)keyStart * KeyRowStride,");
        w.Line($"    KeyRowStride, kvHeadStride, keyEnd - keyStart, HeadDim, Scale, o, lse, {lseHeadStride});");
        w.Close();
        w.Line();

        w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
        w.Open("private void Tile<TVec>(int index, int worker) where TVec : struct");
        w.Line("// Work item → (batch, head, query tile). Within a head the last tiles come first: under a causal mask they see");
        w.Line("// the most keys, so the launch ends on light tiles and the cores finish together. Consecutive items share a");
        w.Line("// head, so its K and V stay in the cores' L2 caches instead of being streamed from memory for every tile.");
        w.Line("int tileRows = TileRows;");
        w.Line("int tile = QueryTiles - 1 - index % QueryTiles;");
        w.Line("int head = index / QueryTiles % Heads;");
        w.Line("int batch = index / (QueryTiles * Heads);");
        w.Line(node.GroupSize == 1 ? "int kvHead = head;" : "int kvHead = head / GroupSize; // GQA: consecutive query heads share a key/value head");
        w.Line("int firstQuery = tile * tileRows;");
        if (node.IsVarlen)
        {
            w.Line("int queries = QueriesOf(batch);");
            w.Line("if (firstQuery >= queries)");
            w.Line("    return; // QueryTiles counts the longest sequence's tiles: this one has fewer");
            w.Line("int rows = global::System.Math.Min(tileRows, queries - firstQuery);");
        }
        else
            w.Line("int rows = global::System.Math.Min(tileRows, QueryLength - firstQuery);");
        if (node.IsVarlen)
        {
            w.Line("T* q = Q + ((long)(QueryStart(batch) + firstQuery) * Heads + head) * HeadDim;");
            w.Line("T* k = K + ((long)KeyStart(batch) * KvHeads + kvHead) * HeadDim;");
            w.Line("T* v = V + ((long)KeyStart(batch) * KvHeads + kvHead) * HeadDim;");
            w.Line("T* o = O + ((long)(QueryStart(batch) + firstQuery) * Heads + head) * HeadDim;");
        }
        else if (node.Layout == LayoutKind.BTHD)
        {
            w.Line("T* q = Q + ((long)(batch * QueryLength + firstQuery) * Heads + head) * HeadDim;");
            w.Line("T* k = K + ((long)batch * KeyLength * KvHeads + kvHead) * HeadDim;");
            w.Line("T* v = V + ((long)batch * KeyLength * KvHeads + kvHead) * HeadDim;");
            w.Line("T* o = O + ((long)(batch * QueryLength + firstQuery) * Heads + head) * HeadDim;");
        }
        else if (node.Layout == LayoutKind.PackedQkv)
        {
            w.Line("T* q = Q + (long)(batch * QueryLength + firstQuery) * QueryRowStride + head * HeadDim;");
            w.Line("T* k = K + (long)batch * KeyLength * KeyRowStride + (Heads + kvHead) * HeadDim;");
            w.Line("T* v = V + (long)batch * KeyLength * KeyRowStride + (Heads + KvHeads + kvHead) * HeadDim;");
            w.Line("T* o = O + (long)(batch * QueryLength + firstQuery) * OutputRowStride + head * HeadDim;");
        }
        else
        {
            w.Line("T* q = Q + ((long)(batch * Heads + head) * QueryLength + firstQuery) * HeadDim;");
            w.Line("T* k = K + (long)(batch * KvHeads + kvHead) * KeyLength * HeadDim;");
            w.Line("T* v = V + (long)(batch * KvHeads + kvHead) * KeyLength * HeadDim;");
            w.Line("T* o = O + ((long)(batch * Heads + head) * QueryLength + firstQuery) * HeadDim;");
        }
        w.Line(node.IsVarlen
            ? "float* lse = Lse == null ? null : Lse + (long)head * TotalQueries + QueryStart(batch) + firstQuery; // [H, TotalQ]"
            : "float* lse = Lse == null ? null : Lse + (long)(batch * Heads + head) * QueryLength + firstQuery;");
        w.Line("KeyRange(batch, firstQuery, rows, out int keyStart, out int keyEnd);");
        w.Open("if (keyEnd <= keyStart)");
        w.Line($"{Names.Flash}.StoreEmpty(o, OutputRowStride, rows, HeadDim, lse, 1);");
        w.Line("return;");
        w.Close();
        w.Line(node.Layout == LayoutKind.BHTD
            ? "// The head's K/V rows: in place, or for 16-bit storage when three or more tiles reread them, widened once per worker into a"
            : "// The head's K/V rows lie KeyRowStride elements apart: when three or more tiles reread them, a contiguous fp32 copy per worker");
        w.Line(node.Layout == LayoutKind.BHTD
            ? "// contiguous fp32 copy that stays in L2 across its tiles (fewer tiles widen block by block)."
            : "// and head stays in L2 across its tiles. Fewer tiles read them in place, 16-bit blocks widened as they go: with two tiles");
        if (node.Layout != LayoutKind.BHTD)
            w.Line("// per head (cross attention, Tq128 Tk2048) the copy was not paid back, 12 % slower (issue 16).");
        w.Line($"var kv = {Names.Flash}.KeysValues(worker, Launch, batch * KvHeads + kvHead, k, v, KeyRowStride, KeysOf(batch), HeadDim, reuse: QueryTiles > 2);");
        if (diagonal is not null)
            w.Line($"int diagonal = {diagonal}; // query i sees keys j ≤ i + diagonal");
        w.Line();
        if (node.MaskTensor != MaskTensorKind.None)
            w.Line($"{(node.MaskTensor == MaskTensorKind.Boolean ? "bool" : "float")}* mask = AttnMask + MaskStrides.Batch * batch + MaskStrides.Head * head; // this (batch, head)'s plane");
        if (node.Alibi)
            w.Line($"float alibiSlope = {AlibiSlope(node.Heads)}; // this head's ALiBi slope (Press et al.)");
        if (node.PrefixLm)
            w.Line("int prefix = PrefixOf(batch); // prefix-LM: keys below it are seen by every row");
        if (node.DocumentMask)
        {
            w.Line("int* documents = DocumentIds + (long)batch * KeyLength; // this batch entry's ids (Tq = Tk)");
            w.Line($"{Names.Flash}.DocumentRange(documents + firstQuery, rows, out int firstDocument, out int lastDocument); // the tile's id range");
        }
        w.Line($"var t = {Names.Flash}.BeginTile<TVec>(worker, HeadDim);");
        w.Line($"{Names.Flash}.PackQueries<TVec, T>(t, q, QueryRowStride, rows, HeadDim, Scale);");
        w.Open($"for (int firstKey = keyStart; firstKey < keyEnd; firstKey += {Names.Flash}.KeyBlock)");
        w.Line($"int keys = global::System.Math.Min({Names.Flash}.KeyBlock, keyEnd - firstKey);");
        if (node.DocumentMask)
        {
            w.Line("// Document mask: a key block whose id range misses the tile's is skipped; one shared document needs no element test.");
            w.Line($"int documentKind = {Names.Flash}.ClassifyDocuments(documents + firstKey, keys, firstDocument, lastDocument);");
            w.Line($"if (documentKind == {Names.Flash}.BlockEmpty)");
            w.Line("    continue;");
        }
        if (node.MaskMod is not null)
        {
            w.Line("// Block mask: the mask modifier's class of this (tile, key block), cached per launch shape (mods are pure): an empty");
            w.Line("// block is skipped, a full one skips the mask's element pass, a partial one is masked per element.");
            w.Line($"int blockKind = {Names.Flash}.ClassifyBlock<CpuKernel<T>>(BlockMasks, (long)index * BlocksPerTile + (firstKey - keyStart) / {Names.Flash}.KeyBlock,");
            w.Line("    batch, head, firstQuery, rows, firstKey, keys, ModTensors);");
            w.Line($"if (blockKind == {Names.Flash}.BlockEmpty)");
            w.Line("    continue;");
        }
        w.Line($"{Names.Flash}.Scores<TVec, T>(t, kv, firstKey, keys, HeadDim);");
        switch (node.Mask)
        {
            case MaskKind.Causal:
            case MaskKind.CausalTopLeft:
                w.Line("// Only blocks that cross the diagonal of some row of the tile need element-wise masking.");
                w.Line("if (firstKey + keys - 1 > firstQuery + diagonal)");
                w.Line($"    {Names.Flash}.ApplyMask<TVec>(t, keys, firstKey, firstQuery, diagonal, window: 0);");
                break;
            case MaskKind.SlidingWindow:
                w.Line("// Only blocks that cross an edge of the band for some row of the tile need element-wise masking.");
                w.Line("if (firstKey + keys - 1 > firstQuery + diagonal || firstKey <= firstQuery + rows - 1 + diagonal - Window)");
                w.Line($"    {Names.Flash}.ApplyMask<TVec>(t, keys, firstKey, firstQuery, diagonal, Window);");
                break;
        }
        if (node.PrefixLm)
        {
            w.Line("// Prefix-LM: only blocks with a key past both the prefix and some row of the tile need element-wise masking.");
            w.Line("if (firstKey + keys - 1 >= prefix && firstKey + keys - 1 > firstQuery)");
            w.Line($"    {Names.Flash}.ApplyPrefixLm<TVec>(t, keys, firstKey, firstQuery, prefix);");
        }
        if (node.DocumentMask)
        {
            w.Line($"if (documentKind == {Names.Flash}.BlockPartial)");
            w.Line($"    {Names.Flash}.ApplyDocumentMask<TVec>(t, keys, rows, documents + firstQuery, documents + firstKey);");
        }
        if (node.MaskTensor == MaskTensorKind.Boolean)
        {
            w.Line("// The boolean attnMask, per element, before the modifiers: −∞ where it is false (PyTorch: True takes part).");
            w.Line($"{Names.Flash}.ApplyBooleanMask<TVec>(t, keys, firstKey, rows, firstQuery, mask, MaskStrides.Query, MaskStrides.Key);");
        }
        if (node.ScoreMod is not null || node.MaskMod is not null)
        {
            w.Line("// The user's modifiers, per element: " + (node.MaskMod is not null ? "−∞ where the mask modifier hides the pair" : "") +
                   (node.MaskMod is not null && node.ScoreMod is not null ? ", else " : "") +
                   (node.ScoreMod is not null ? "the score modifier on the natural-unit score (s·ln2 → mod → ·log₂e)" : "") + ".");
            if (node.MaskMod is null)
                w.Line($"{Names.Flash}.ApplyMods<TVec, CpuKernel<T>>(t, keys, firstKey, rows, firstQuery, batch, head, ModTensors);");
            else if (node.ScoreMod is null)
            {
                w.Line($"if (blockKind == {Names.Flash}.BlockPartial)");
                w.Line($"    {Names.Flash}.ApplyMods<TVec, CpuKernel<T>>(t, keys, firstKey, rows, firstQuery, batch, head, ModTensors);");
            }
            else
                w.Line($"{Names.Flash}.ApplyMods<TVec, CpuKernel<T>>(t, keys, firstKey, rows, firstQuery, batch, head, ModTensors, maskPartial: blockKind == {Names.Flash}.BlockPartial);");
        }
        if (node.Alibi)
        {
            w.Line("// Built-in ALiBi after the user's ScoreMod, vectorized (closed form per lane).");
            w.Line($"{Names.Flash}.ApplyAlibi<TVec>(t, keys, firstKey, firstQuery, alibiSlope);");
        }
        if (node.SoftCap > 0)
        {
            w.Line("// Built-in soft-capping last, vectorized (a SIMD tanh).");
            w.Line($"{Names.Flash}.ApplySoftCap<TVec>(t, keys, {Names.Float(node.SoftCap)});");
        }
        if (node.MaskTensor == MaskTensorKind.Additive)
        {
            w.Line("// The additive attnMask, per element, after the score modifier: s + mask (PyTorch adds it to the scaled score).");
            w.Line($"{Names.Flash}.ApplyAdditiveMask<TVec>(t, keys, firstKey, rows, firstQuery, mask, MaskStrides.Query, MaskStrides.Key);");
        }
        w.Line($"{Names.Flash}.Softmax<TVec>(t, keys, HeadDim);");
        w.Line($"{Names.Flash}.AccumulateValues<TVec, T>(t, kv, firstKey, keys, HeadDim);");
        w.Close();
        w.Line($"{Names.Flash}.Store<TVec, T>(t, o, OutputRowStride, rows, HeadDim, lse, 1);");
        w.Close();
        w.Close();
    }
}
