/* A host-memory stand-in for the CUDA driver API (libcuda.so.1), only for exercising the .NET bindings' plumbing
 * (library resolution, marshalling, call order, error mapping) on machines without a GPU. Device memory is malloc'd,
 * copies are memcpy, streams are no-ops, events complete at once unless a test holds the stream (fake_cuda_hold_stream).
 * It cannot load modules or launch kernels: those calls fail with
 * CUDA_ERROR_NOT_SUPPORTED. Built and used by tests/cuda/fake-driver-check.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef uint64_t CUdeviceptr;
enum { OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, INVALID_DEVICE = 101, NOT_READY = 600, NOT_SUPPORTED = 801 };
static int initialized;
static size_t in_use;
static uint64_t recorded_generation, completed_generation; /* see the events below */
#define TOTAL ((size_t)1 << 30)

CUresult cuInit(unsigned flags) { (void)flags; initialized = 1; return OK; }
CUresult cuDriverGetVersion(int* v) { *v = 12040; return OK; }
CUresult cuGetErrorName(CUresult e, const char** s) {
    switch (e) { case OK: *s = "CUDA_SUCCESS"; return OK; case INVALID_VALUE: *s = "CUDA_ERROR_INVALID_VALUE"; return OK;
                 case OUT_OF_MEMORY: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return OK; case NOT_SUPPORTED: *s = "CUDA_ERROR_NOT_SUPPORTED"; return OK; }
    *s = 0; return INVALID_VALUE; }
CUresult cuGetErrorString(CUresult e, const char** s) { *s = e == OUT_OF_MEMORY ? "out of memory (fake driver)" : "fake driver error"; return OK; }
CUresult cuDeviceGetCount(int* n) { if (!initialized) return NOT_INITIALIZED; *n = 1; return OK; }
CUresult cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return INVALID_DEVICE; *d = 0; return OK; }
CUresult cuDeviceGetName(char* name, int len, int d) { (void)d; strncpy(name, "Fake GPU (host memory)", (size_t)len); return OK; }
CUresult cuDeviceGetAttribute(int* v, int attribute, int d) {
    (void)d;
    switch (attribute) {
        case 1: *v = 1024; break;  case 2: *v = 1024; break; case 5: *v = 2147483647; break; case 8: *v = 49152; break;
        case 10: *v = 32; break;   case 13: *v = 1500000; break; case 16: *v = 4; break; case 36: *v = 1000000; break;
        case 37: *v = 256; break;  case 75: *v = 8; break; case 76: *v = 0; break; case 97: *v = 101376; break;
        default: return INVALID_VALUE;
    }
    return OK; }
CUresult cuDeviceTotalMem_v2(size_t* b, int d) { (void)d; *b = TOTAL; return OK; }
CUresult cuDevicePrimaryCtxRetain(void** c, int d) { (void)d; *c = (void*)0x1; return OK; }
CUresult cuDevicePrimaryCtxRelease_v2(int d) { (void)d; return OK; }
CUresult cuCtxSetCurrent(void* c) { return c ? OK : INVALID_VALUE; }
CUresult cuCtxSynchronize(void) { completed_generation = recorded_generation; return OK; }
CUresult cuMemGetInfo_v2(size_t* f, size_t* t) { *f = TOTAL - in_use; *t = TOTAL; return OK; }
CUresult cuStreamCreate(void** s, unsigned f) { (void)f; *s = malloc(1); return OK; }
CUresult cuStreamDestroy_v2(void* s) { free(s); return OK; }
CUresult cuStreamSynchronize(void* s) { (void)s; completed_generation = recorded_generation; return OK; }
/* Events carry the stream "generation" they were recorded at. Work normally completes at once; while a test holds the
 * stream (fake_cuda_hold_stream(1)) recorded events stay NOT_READY until it is released or something synchronizes. */
typedef struct { uint64_t generation; } fake_event;
static int stream_held;
static int live_events;
void fake_cuda_hold_stream(int hold) { stream_held = hold; if (!hold) completed_generation = recorded_generation; }
int fake_cuda_live_events(void) { return live_events; }
CUresult cuEventCreate(void** e, unsigned f) { (void)f; *e = calloc(1, sizeof(fake_event)); live_events++; return OK; }
CUresult cuEventDestroy_v2(void* e) { free(e); live_events--; return OK; }
CUresult cuEventRecord(void* e, void* s) {
    (void)s; ((fake_event*)e)->generation = ++recorded_generation;
    if (!stream_held) completed_generation = recorded_generation;
    return OK; }
CUresult cuEventQuery(void* e) { return ((fake_event*)e)->generation <= completed_generation ? OK : NOT_READY; }
CUresult cuEventSynchronize(void* e) { (void)e; completed_generation = recorded_generation; return OK; }
CUresult cuEventElapsedTime(float* ms, void* a, void* b) { (void)a; (void)b; *ms = 0.5f; return OK; }
CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t n) {
    if (n == 0) return INVALID_VALUE;
    if (n > TOTAL - in_use) return OUT_OF_MEMORY;
    void* m = malloc(n); if (!m) return OUT_OF_MEMORY; in_use += n; *p = (CUdeviceptr)(uintptr_t)m; return OK; }
CUresult cuMemFree_v2(CUdeviceptr p) { free((void*)(uintptr_t)p); return OK; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void* s, size_t n) { memcpy((void*)(uintptr_t)d, s, n); return OK; }
CUresult cuMemcpyDtoH_v2(void* d, CUdeviceptr s, size_t n) { memcpy(d, (void*)(uintptr_t)s, n); return OK; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void* s, size_t n, void* st) { (void)st; return cuMemcpyHtoD_v2(d, s, n); }
CUresult cuMemcpyDtoHAsync_v2(void* d, CUdeviceptr s, size_t n, void* st) { (void)st; return cuMemcpyDtoH_v2(d, s, n); }
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void* s) { (void)s; memset((void*)(uintptr_t)d, v, n); return OK; }
CUresult cuMemsetD16Async(CUdeviceptr d, unsigned short v, size_t n, void* s) { (void)s; unsigned short* p = (unsigned short*)(uintptr_t)d; for (size_t i = 0; i < n; i++) p[i] = v; return OK; }
CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, void* s) { (void)s; unsigned* p = (unsigned*)(uintptr_t)d; for (size_t i = 0; i < n; i++) p[i] = v; return OK; }
CUresult cuMemsetD32_v2(CUdeviceptr d, unsigned v, size_t n) { return cuMemsetD32Async(d, v, n, 0); }
CUresult cuModuleLoadDataEx(void** m, const void* i, unsigned n, int* o, void** v) { (void)m; (void)i; (void)n; (void)o; (void)v; return NOT_SUPPORTED; }
CUresult cuModuleUnload(void* m) { (void)m; return OK; }
CUresult cuModuleGetFunction(void** f, void* m, const char* n) { (void)f; (void)m; (void)n; return NOT_SUPPORTED; }
CUresult cuFuncGetAttribute(int* v, int a, void* f) { (void)a; (void)f; *v = 0; return NOT_SUPPORTED; }
CUresult cuFuncSetAttribute(void* f, int a, int v) { (void)f; (void)a; (void)v; return NOT_SUPPORTED; }
CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned sh,
                        void* s, void** p, void** e) {
    (void)f; (void)gx; (void)gy; (void)gz; (void)bx; (void)by; (void)bz; (void)sh; (void)s; (void)p; (void)e; return NOT_SUPPORTED; }
