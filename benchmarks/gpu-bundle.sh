#!/usr/bin/env bash
# Builds the GPU bundle: a self-contained, trimmed linux-x64 publish of benchmarks/Attention.Kernels.GpuRunner plus a
# run script, packed as a .tar.xz to copy to a machine with an NVIDIA GPU (no .NET needed there).
#
# usage: benchmarks/gpu-bundle.sh [OUT_DIR]     (default: artifacts/gpu-bundle)
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-artifacts/gpu-bundle}"
name="attention-kernels-gpu"
stage="$out/$name"
rm -rf "$stage" "$out/$name.tar.xz"
mkdir -p "$stage"

dotnet publish benchmarks/Attention.Kernels.GpuRunner/Attention.Kernels.GpuRunner.csproj -c Release -r linux-x64 \
  -o "$stage/bin" 2>&1 | tail -n 3

cat > "$stage/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the Attention.Kernels GPU checks and benchmarks. Needs the NVIDIA driver (libcuda.so.1) and NVRTC.
# NVRTC is looked up as libnvrtc.so / .so.13 / .so.12 / .so.11.2 on the loader path and in /usr/local/cuda/lib64;
# if PyTorch's pip wheels are installed, their copy (nvidia/cuda_nvrtc/lib) is used when nothing else is found.
# Set ATTENTION_KERNELS_NVRTC=/path/to/libnvrtc.so.12 to choose one. Arguments: --quick, --no-torch.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${ATTENTION_KERNELS_NVRTC:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so' && [ ! -e /usr/local/cuda/lib64/libnvrtc.so ]; then
  lib=$(python3 - <<'PY' 2>/dev/null || true
import glob, os
try:
    import nvidia.cuda_nvrtc as m
    roots = list(m.__path__)
except Exception:
    roots = []
for root in roots:
    hits = sorted(glob.glob(os.path.join(root, "lib", "libnvrtc.so*")))
    hits = [h for h in hits if "builtins" not in h and "alt" not in os.path.basename(h)]
    if hits:
        print(hits[0]); break
PY
)
  if [ -n "$lib" ]; then
    export ATTENTION_KERNELS_NVRTC="$lib"
    export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"   # libnvrtc-builtins next to it
    echo "using NVRTC from PyTorch's wheel: $lib"
  fi
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
cd "$here"
exec "$here/bin/Attention.Kernels.GpuRunner" "$@"
RUN
chmod +x "$stage/run.sh" "$stage/bin/Attention.Kernels.GpuRunner"

tar -C "$out" -cJf "$out/$name.tar.xz" "$name"
size=$(stat -c %s "$out/$name.tar.xz")
limit=$((64 * 1024 * 1024))
printf 'bundle: %s (%.1f MiB, %s files)\n' "$out/$name.tar.xz" "$(echo "$size / 1048576" | bc -l)" "$(find "$stage" -type f | wc -l)"
if [ "$size" -gt "$limit" ]; then
  echo "bundle exceeds 64 MiB" >&2
  exit 1
fi
cat <<HOW
On the GPU machine (x86-64 Linux, NVIDIA driver; NVRTC from the CUDA toolkit or 'pip install nvidia-cuda-nvrtc-cu12';
PyTorch optional for the comparison):
  tar -xJf $name.tar.xz && $name/run.sh            # full run (about a minute); --quick for a short one
The report is printed and written to gpu-report.md in $name/. Exit code 0 = all numerics within tolerance (1e-5 fp32; u + 2e-5 for fp16/bf16 storage), 1 = a check failed,
2 = no usable CUDA device.
HOW
