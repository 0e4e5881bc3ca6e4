#!/usr/bin/env bash
# Packs every packable project under runtime/ into a local folder feed (artifacts/feed) and checks the packages the
# way a user gets them:
#   1. lists each .nupkg and .snupkg (unzip -l) and checks what every package must hold (licence, readme, symbols;
#      Attention.Kernels: the generator under analyzers/dotnet/cs, no native assets);
#   2. a consumer console app outside the repository, restoring Attention.Kernels from that feed only (package source
#      mapping), declares a [ScaledDotProductAttention] kernel and an [AttentionModel], builds with warnings as errors,
#      runs on the CPU and checks both against naive references (exit 1 if wrong);
#   3. the same app, which references only Attention.Kernels, published with NativeAOT with warnings as errors (any
#      AOT or trim warning fails), then run;
#   4. the same app with Attention.Kernels.Ilgpu added, run with ATTENTION_KERNELS_DEVICE=ilgpu-cpu: the package's
#      accelerator kernels (registered by the generator's module initializer) on ILGPU's CPU accelerator.
# Needs clang, zlib1g-dev (NativeAOT) and unzip; installs whichever is missing (CI runs as root on Debian).
# Environment: RepositoryUrl (optional) is stamped into the packages; AK_UPSTREAM_SOURCES (optional, space-separated)
# replaces the NuGet sources read from this machine's configuration for the consumer's other dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DEBIAN_FRONTEND=noninteractive
started=$SECONDS
phase() { echo; echo "== $* ($((SECONDS - started)) s)"; }
fail() { echo "pack-and-consume: FAIL: $*" >&2; exit 1; }

missing=()
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v clang >/dev/null 2>&1 || missing+=(clang)
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
if ((${#missing[@]})); then
  phase "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- 1. Pack --------------------------------------------------------------------------------------------------------
feed="$root/artifacts/feed"
rm -rf "$feed"
mkdir -p "$feed"
packed=()
while IFS= read -r project; do
  if [[ "$(dotnet msbuild "$project" -getProperty:IsPackable 2>/dev/null | tr -d '[:space:]')" != "true" ]]; then
    continue
  fi
  phase "pack $project"
  # A full CI-mode build (deterministic, source paths mapped) of exactly what goes into the package, then the pack.
  props=(-c Release -warnaserror -p:ContinuousIntegrationBuild=true ${RepositoryUrl:+"-p:RepositoryUrl=$RepositoryUrl"})
  dotnet build "$project" --no-incremental "${props[@]}" 2>&1 | tail -n 3
  dotnet pack "$project" --no-build -o "$feed" "${props[@]}" 2>&1 | grep -E 'Successfully created|error|warn' || true
  packed+=("$project")
done < <(find runtime -name '*.csproj' | sort)
((${#packed[@]})) || fail "no packable project under runtime/"

shopt -s nullglob
nupkgs=("$feed"/*.nupkg)
snupkgs=("$feed"/*.snupkg)
((${#nupkgs[@]} == ${#packed[@]})) || fail "${#packed[@]} packable projects but ${#nupkgs[@]} .nupkg files in $feed"
((${#snupkgs[@]} == ${#packed[@]})) || fail "${#packed[@]} packable projects but ${#snupkgs[@]} .snupkg files in $feed"

phase "package contents"
for package in "${nupkgs[@]}" "${snupkgs[@]}"; do
  echo "--- $(basename "$package")"
  unzip -l "$package"
done
for package in "${nupkgs[@]}"; do
  name=$(basename "$package")
  listing=$(unzip -Z1 "$package")
  nuspec=$(unzip -p "$package" '*.nuspec')
  grep -qx 'LICENSE' <<<"$listing" || fail "$name has no LICENSE"
  grep -qx 'README.md' <<<"$listing" || fail "$name has no README.md"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || fail "$name has no MIT licence expression"
  grep -q '<readme>README.md</readme>' <<<"$nuspec" || fail "$name does not declare its readme"
  grep -q '<repository type="git"' <<<"$nuspec" || fail "$name has no repository element"
  grep -q '^lib/net10.0/.*\.dll$' <<<"$listing" || fail "$name has no lib/net10.0 assembly"
  if unzip -p "$package" README.md | grep -nP '\]\((?!https?://|#)'; then
    fail "$name's README.md has a relative link (it is read on a package feed, not in the repository)"
  fi
  symbols="${package%.nupkg}.snupkg"
  # Listed first, then searched: 'unzip | grep -q' fails under pipefail when grep stops reading early (SIGPIPE).
  symbols_listing=$(unzip -Z1 "$symbols")
  grep -q '^lib/net10.0/.*\.pdb$' <<<"$symbols_listing" || fail "$(basename "$symbols") has no pdb"
done
core=("$feed"/Attention.Kernels.[0-9]*.nupkg)
((${#core[@]} == 1)) || fail "expected one Attention.Kernels package in $feed"
core_listing=$(unzip -Z1 "${core[0]}")
grep -qx 'analyzers/dotnet/cs/Attention.Kernels.Generator.dll' <<<"$core_listing" || fail "Attention.Kernels does not carry the generator"
if grep -qE '^runtimes/|\.(so|dylib)$' <<<"$core_listing"; then fail "Attention.Kernels has native assets"; fi
version=$(unzip -p "${core[0]}" Attention.Kernels.nuspec | sed -n 's|.*<version>\(.*\)</version>.*|\1|p')
echo "Attention.Kernels $version: licence, readme, symbols, generator present; no native assets"

# --- 2. Consumer from the feed --------------------------------------------------------------------------------------
work=$(mktemp -d /tmp/ak-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
app="$work/Consumer"
mkdir -p "$app"

# The consumer's other dependencies come from the sources this machine is configured with (read before our
# nuget.config exists), never Attention.Kernels: source mapping sends that id to the local feed only.
if [[ -n "${AK_UPSTREAM_SOURCES:-}" ]]; then
  read -r -a upstream <<<"$AK_UPSTREAM_SOURCES"
else
  mapfile -t upstream < <(cd "$work" && dotnet nuget list source --format short | awk '$1 == "E" { print $2 }')
fi
((${#upstream[@]})) || fail "no enabled NuGet source configured on this machine (set AK_UPSTREAM_SOURCES)"
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<configuration>'
  echo '  <packageSources>'
  echo '    <clear />'
  echo "    <add key=\"attention-kernels-local\" value=\"$feed\" />"
  for i in "${!upstream[@]}"; do echo "    <add key=\"upstream$i\" value=\"${upstream[$i]}\" />"; done
  echo '  </packageSources>'
  echo '  <packageSourceMapping>'
  echo '    <packageSource key="attention-kernels-local">'
  echo '      <package pattern="Attention.Kernels" />'
  echo '      <package pattern="Attention.Kernels.*" />'
  echo '    </packageSource>'
  for i in "${!upstream[@]}"; do
    echo "    <packageSource key=\"upstream$i\"><package pattern=\"*\" /></packageSource>"
  done
  echo '  </packageSourceMapping>'
  echo '</configuration>'
} >"$work/nuget.config"

# A package folder of its own, so an older build of the same version cached elsewhere cannot stand in for this one;
# kept between runs for the other dependencies (the NativeAOT compiler package is large).
export NUGET_PACKAGES="$root/artifacts/consumer-packages"
rm -rf "$NUGET_PACKAGES"/attention.kernels*

cat >"$app/Consumer.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <InvariantGlobalization>true</InvariantGlobalization>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Attention.Kernels" Version="[$version]" />
  </ItemGroup>
</Project>
EOF

cat >"$app/Program.cs" <<'EOF'
using Attention.Kernels;

// Odd sizes, GQA (4 query heads on 2 key/value heads), causal mask aligned bottom-right (Tq < Tk).
const int B = 2, Tq = 37, Tk = 53, H = 4, KvH = 2, D = 32, F = 16, Out = 8, T = 5;
var device = Device.Default; // the CPU, unless ATTENTION_KERNELS_DEVICE names an accelerator of a referenced package
Console.WriteLine($"device: {device}");
var random = new Random(42);
float[] Data(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
double RelativeError(float[] actual, double[] expected)
{
    double diff = 0, norm = 0;
    for (int i = 0; i < expected.Length; i++)
    {
        diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
        norm += expected[i] * expected[i];
    }
    return Math.Sqrt(diff / norm);
}

// The kernel against a naive fp64 softmax(q·kᵀ/√D + mask)·v.
float[] q = Data(B * Tq * H * D), k = Data(B * Tk * KvH * D), v = Data(B * Tk * KvH * D);
using var qt = Tensor.FromArray<float>(device, q, B, Tq, H, D);
using var kt = Tensor.FromArray<float>(device, k, B, Tk, KvH, D);
using var vt = Tensor.FromArray<float>(device, v, B, Tk, KvH, D);
using var ot = Tensor.Create<float>(device, B, Tq, H, D);
ot.Fill(float.NaN);
Kernels.CausalGqa(qt, kt, vt, ot);
device.Synchronize();
float[] attention = ot.ToArray();

var expected = new double[attention.Length];
for (int b = 0; b < B; b++)
for (int h = 0; h < H; h++)
for (int i = 0; i < Tq; i++)
{
    int g = h / (H / KvH), last = i + (Tk - Tq); // keys j <= last are visible
    var scores = new double[last + 1];
    for (int j = 0; j <= last; j++)
    {
        double dot = 0;
        for (int d = 0; d < D; d++)
            dot += (double)q[((b * Tq + i) * H + h) * D + d] * k[((b * Tk + j) * KvH + g) * D + d];
        scores[j] = dot / Math.Sqrt(D);
    }
    double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
    for (int d = 0; d < D; d++)
    {
        double acc = 0;
        for (int j = 0; j <= last; j++)
            acc += Math.Exp(scores[j] - max) / sum * v[((b * Tk + j) * KvH + g) * D + d];
        expected[((b * Tq + i) * H + h) * D + d] = acc;
    }
}
double attentionError = RelativeError(attention, expected);
Console.WriteLine($"attention [{B}, {Tq}, {H}, {D}] vs fp64 reference: relative error {attentionError:E2}");

// A one-node model graph, weights loaded by their PyTorch names, against relu(x·Wᵀ + b).
float[] x = Data(B * T * F), weight = Data(Out * F), bias = Data(Out);
var model = new Projector();
model.ForwardWeights.Load("proj", "weight", weight);
model.ForwardWeights.Load("proj", "bias", bias);
using var xt = Tensor.FromArray<float>(device, x, B, T, F);
using var yt = Tensor.Create<float>(device, B, T, Out);
model.Forward(xt, yt);
float[] projected = yt.ToArray();
var linear = new double[projected.Length];
for (int r = 0; r < B * T; r++)
for (int o = 0; o < Out; o++)
{
    double acc = bias[o];
    for (int f = 0; f < F; f++)
        acc += (double)x[r * F + f] * weight[o * F + f];
    linear[r * Out + o] = Math.Max(0, acc);
}
double modelError = RelativeError(projected, linear);
Console.WriteLine($"model [{B}, {T}, {F}] -> [{B}, {T}, {Out}] vs fp64 reference: relative error {modelError:E2}");

bool ok = attentionError <= 1e-5 && modelError <= 1e-5;
Console.WriteLine(ok ? "OK: within 1e-5" : "FAILED: above 1e-5");
return ok ? 0 : 1;

public static partial class Kernels
{
    [ScaledDotProductAttention(HeadDim = 32, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void CausalGqa(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
}

[AttentionModel]
public partial class Projector
{
    [Linear("proj", From = "x", OutFeatures = 8, Activation = Activation.Relu)]
    public partial void Forward([Features(16)] Tensor<float> x, Tensor<float> proj);
}
EOF

phase "consumer: restore from the feed, build with warnings as errors, run on the CPU"
(cd "$app" && dotnet build -c Release -warnaserror 2>&1 | tail -n 3)
grep -q "\"Attention.Kernels/$version\"" "$app/obj/project.assets.json" || fail "the consumer did not restore Attention.Kernels $version"
[[ -f "$NUGET_PACKAGES/attention.kernels/$version/attention.kernels.$version.nupkg" ]] || fail "Attention.Kernels was not restored into $NUGET_PACKAGES"
cmp -s "$NUGET_PACKAGES/attention.kernels/$version/attention.kernels.$version.nupkg" "${core[0]}" || fail "the restored Attention.Kernels is not the one just packed"
(cd "$app" && dotnet run -c Release --no-build) || fail "consumer check (JIT)"

# --- 3. NativeAOT ---------------------------------------------------------------------------------------------------
phase "consumer: NativeAOT publish with warnings as errors, then run"
log="$work/aot.log"
if ! (cd "$app" && dotnet publish -r linux-x64 -c Release -p:PublishAot=true -p:TreatWarningsAsErrors=true -warnaserror \
      -o "$work/aot") >"$log" 2>&1; then
  cat "$log"
  fail "NativeAOT publish"
fi
tail -n 2 "$log"
if grep -qiE '(^|[^a-z])warning([^a-z]|$)' "$log"; then
  grep -iE 'warning' "$log"
  fail "NativeAOT publish printed a warning"
fi
[[ -x "$work/aot/Consumer" && ! -f "$work/aot/Consumer.dll" ]] || fail "the publish did not produce a native executable"
echo "native executable: $(du -h "$work/aot/Consumer" | cut -f1)"
"$work/aot/Consumer" || fail "consumer check (NativeAOT)"

# --- 4. The accelerator package ---------------------------------------------------------------------------------------
phase "consumer + Attention.Kernels.Ilgpu: build with warnings as errors, run on ILGPU's CPU accelerator"
ilgpu_app="$work/IlgpuConsumer"
mkdir -p "$ilgpu_app"
cp "$app/Program.cs" "$ilgpu_app/"
sed 's|<PackageReference Include="Attention.Kernels" Version="\[\(.*\)\]" />|&\n    <PackageReference Include="Attention.Kernels.Ilgpu" Version="[\1]" />|' \
  "$app/Consumer.csproj" >"$ilgpu_app/IlgpuConsumer.csproj"
grep -q 'Attention.Kernels.Ilgpu' "$ilgpu_app/IlgpuConsumer.csproj" || fail "could not add Attention.Kernels.Ilgpu to the consumer"
(cd "$ilgpu_app" && dotnet build -c Release -warnaserror 2>&1 | tail -n 3)
(cd "$ilgpu_app" && ATTENTION_KERNELS_DEVICE=ilgpu-cpu dotnet run -c Release --no-build) | tee "$work/ilgpu.log" || fail "consumer check (ILGPU)"
grep -q '^device: IlgpuCpu' "$work/ilgpu.log" || fail "the ILGPU consumer did not run on ILGPU's CPU accelerator"

phase "pack-and-consume: OK, ${#nupkgs[@]} package(s) in $feed"
