// The Chinchilla normal-equation kernel compiled for avx512 (flags in CMakeLists.txt).
#define SCALELAB_KERNEL_NAME chinchilla_normal_avx512
#include "fit/chinchilla_kernel_body.inc"
