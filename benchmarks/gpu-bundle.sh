#!/usr/bin/env bash
# Builds the GPU bundle: a self-contained linux-x64 publish of benchmarks/Attention.Kernels.GpuRunner plus a run script,
# packed as a .tar.xz to copy to a machine with an NVIDIA GPU (no .NET needed there). ILGPU emits PTX at run time and
# the driver JIT-compiles it, so the GPU machine needs only the NVIDIA driver (libcuda.so.1): no CUDA toolkit, no NVRTC.
# Trimming: ILGPU compiles kernels with Reflection.Emit and reads their IL by reflection, so the runner publishes with
# TrimMode=partial and System.Private.CoreLib rooted (see its .csproj); NativeAOT is impossible.
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
test -x "$stage/bin/Attention.Kernels.GpuRunner" || { echo "publish failed" >&2; exit 1; }

cat > "$stage/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the Attention.Kernels GPU checks and benchmarks on an ILGPU device (default: the first CUDA GPU).
# Needs the NVIDIA driver (libcuda.so.1); ILGPU generates PTX (target sm_80; newer GPUs through the driver's JIT).
# Arguments: --device NAME (cuda, cuda:1, opencl, ilgpu-cpu; default cuda), --quick, --no-torch, --ptx.
# Exit code: 0 all checks passed, 1 a check failed, 2 no such device. Report: bin/gpu-report.md and stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
case " $* " in
  *" --device ilgpu-cpu"*|*" --device opencl"*) ;;
  *)
    if ! { ldconfig -p 2>/dev/null | grep 'libcuda\.so\.1' >/dev/null; } && ! ls /usr/lib*/libcuda.so.1 /usr/lib/*/libcuda.so.1 >/dev/null 2>&1; then
      echo "note: libcuda.so.1 (NVIDIA driver) not found on the loader path; ILGPU will see no CUDA device." >&2
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
    ;;
esac
exec "$here/bin/Attention.Kernels.GpuRunner" "$@"
RUN
chmod +x "$stage/run.sh" "$stage/bin/Attention.Kernels.GpuRunner"

tar -C "$out" -cJf "$out/$name.tar.xz" "$name"
size=$(stat -c %s "$out/$name.tar.xz")
limit=$((64 * 1024 * 1024))
awk -v path="$out/$name.tar.xz" -v size="$size" -v files="$(find "$stage" -type f | wc -l)" -v unpacked="$(du -sb "$stage" | cut -f1)" \
  'BEGIN { printf "bundle: %s (%.1f MiB, %s files, %.1f MiB unpacked)\n", path, size / 1048576, files, unpacked / 1048576 }'
if [ "$size" -gt "$limit" ]; then
  echo "bundle exceeds 64 MiB" >&2
  exit 1
fi
cat <<HOW
On the GPU machine (x86-64 Linux with the NVIDIA driver; PyTorch optional for the comparison):
  tar -xJf $name.tar.xz && $name/run.sh            # full run (well under 5 minutes); --quick for a short one
The report is printed and written to $name/bin/gpu-report.md. Exit code 0 = all numerics within tolerance
(1e-5 fp32; u + 2e-5 for fp16/bf16 storage), 1 = a check failed, 2 = no usable device.
Without a GPU: $name/run.sh --device ilgpu-cpu --quick --no-torch (ILGPU's CPU accelerator: the flow, tiny sizes).
HOW
