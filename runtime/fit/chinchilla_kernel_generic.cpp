// The Chinchilla normal-equation kernel compiled for generic (flags in CMakeLists.txt).
#define SCALELAB_KERNEL_NAME chinchilla_normal_generic
#include "fit/chinchilla_kernel_body.inc"
