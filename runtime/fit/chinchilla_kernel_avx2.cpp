// The Chinchilla normal-equation kernel compiled for avx2 (flags in CMakeLists.txt).
#define SCALELAB_KERNEL_NAME chinchilla_normal_avx2
#include "fit/chinchilla_kernel_body.inc"
