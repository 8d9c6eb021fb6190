# SPDX-License-Identifier: Apache-2.0
# Sourced (not run) by the scripts that run programs: examples/run-demo.sh, tests/run.sh.
# Debian 12's OpenBLAS (0.3.21) chooses its matrix kernels by the CPU's model number, and on CPUs
# newer than itself (a Sapphire Rapids VM reports "Intel(R) Xeon(R) Processor") it falls back to
# "Prescott", its SSE3 kernels: LibTorch's matrix products then run at a fraction of the speed the
# CPU has. When OpenBLAS reports Prescott on a CPU with AVX-512 or AVX2,
# this exports OPENBLAS_CORETYPE=SkylakeX or Haswell, the kernels of those instruction sets; it
# changes nothing when OPENBLAS_CORETYPE is already set or OpenBLAS recognises the CPU. Results may
# differ in the last bits of a float sum (another summation order); no test depends on the kernel.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -r /proc/cpuinfo ]; then
  vikcse_blas_core=$(/usr/bin/python3 -c '
import ctypes
try:
    lib = ctypes.CDLL("libopenblas.so.0")
    lib.openblas_get_corename.restype = ctypes.c_char_p
    print(lib.openblas_get_corename().decode())
except Exception:
    print("")
' 2> /dev/null || true)
  if [ "${vikcse_blas_core,,}" = prescott ]; then
    vikcse_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    vikcse_has() { for f in "$@"; do [[ "$vikcse_flags" == *" $f "* ]] || return 1; done; }
    if vikcse_has avx512f avx512cd avx512bw avx512dq avx512vl; then
      export OPENBLAS_CORETYPE=SkylakeX
    elif vikcse_has avx2 fma; then
      export OPENBLAS_CORETYPE=Haswell
    fi
    [ -n "${OPENBLAS_CORETYPE:-}" ] &&
      echo "openblas-env.sh: OpenBLAS did not recognise this CPU (kernel Prescott); using OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE" >&2
    unset -f vikcse_has
    unset vikcse_flags
  fi
  unset vikcse_blas_core
fi
