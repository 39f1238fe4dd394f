// cuBLASLt's matmul as NVIDIA documents it, for what primer uses: column-major layouts with leading
// dimensions, op N or T on A and B, strided batches (a stride of 0 broadcasts), the bias epilogue, f32 and
// bf16 data with f32 compute and f64 throughout, host-side alpha and beta. It refuses what the library
// refuses (a leading dimension under the rows, mismatched shapes, unsupported type sets) and what would
// fault on a GPU: an operand past the end of its allocation, or less aligned than the heuristic was told.
// The arithmetic is Eigen's, in the compute type. The product runs on its stream (stream_queue.h).
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <Eigen/Core>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "device_memory.h"
#include "stream_queue.h"

struct cublasLtContext {
  int unused;
};

namespace primer::interpret {
namespace {

struct MatmulDescription {
  cublasComputeType_t compute;
  cudaDataType_t scale;
  cublasOperation_t transa = CUBLAS_OP_N;
  cublasOperation_t transb = CUBLAS_OP_N;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void* bias = nullptr;
  int bias_type = -1;  // -1: the type of D
};

struct MatrixLayout {
  cudaDataType_t type;
  std::uint64_t rows;
  std::uint64_t columns;
  std::int64_t leading;
  std::int32_t batch_count = 1;
  std::int64_t batch_stride = 0;
};

struct Preference {
  std::uint64_t workspace = 0;
  std::uint32_t alignment[4] = {256, 256, 256, 256};  // A, B, C, D, as documented by default
};

MatmulDescription* description(cublasLtMatmulDesc_t d) {
  return reinterpret_cast<MatmulDescription*>(d);
}
MatrixLayout* layout(cublasLtMatrixLayout_t l) {
  return reinterpret_cast<MatrixLayout*>(l);
}
Preference* preference(cublasLtMatmulPreference_t p) {
  return reinterpret_cast<Preference*>(p);
}

template <class T>
cublasStatus_t set(T& field, const void* buffer, std::size_t bytes) {
  if (buffer == nullptr || bytes != sizeof(T)) return CUBLAS_STATUS_INVALID_VALUE;
  std::memcpy(&field, buffer, sizeof(T));
  return CUBLAS_STATUS_SUCCESS;
}

std::size_t type_bytes(int type) {
  switch (type) {
    case CUDA_R_32F: return 4;
    case CUDA_R_64F: return 8;
    case CUDA_R_16BF: return 2;
    default: return 0;
  }
}

cublasStatus_t refuse(cublasStatus_t status, const char* why) {
  std::fprintf(stderr, "cuBLASLt (interpret mode): %s\n", why);
  return status;
}

bool supported_types(const MatmulDescription& d, const MatrixLayout& a, const MatrixLayout& b,
                     const MatrixLayout& c, const MatrixLayout& out) {
  if (c.type != out.type || a.type != b.type) return false;
  if (d.compute == CUBLAS_COMPUTE_64F) {
    return d.scale == CUDA_R_64F && a.type == CUDA_R_64F && out.type == CUDA_R_64F;
  }
  if (d.compute != CUBLAS_COMPUTE_32F || d.scale != CUDA_R_32F) return false;
  if (a.type == CUDA_R_32F) return out.type == CUDA_R_32F;
  return a.type == CUDA_R_16BF && (out.type == CUDA_R_16BF || out.type == CUDA_R_32F);
}

// The op(X) shape a layout stores: (rows, columns) after the op.
std::pair<std::uint64_t, std::uint64_t> operated(const MatrixLayout& l, cublasOperation_t op) {
  return op == CUBLAS_OP_N ? std::pair{l.rows, l.columns} : std::pair{l.columns, l.rows};
}

// Every element a layout reaches over its batches must lie inside one live device allocation.
bool inside_allocation(const void* pointer, const MatrixLayout& l) {
  if (l.rows == 0 || l.columns == 0) return true;
  const auto allocation = device_allocation_of(pointer);
  if (!allocation) return false;
  const std::int64_t last = (l.batch_count - 1) * l.batch_stride +
                            static_cast<std::int64_t>(l.columns - 1) * l.leading +
                            static_cast<std::int64_t>(l.rows - 1);
  const char* end =
      static_cast<const char*>(pointer) + (last + 1) * static_cast<std::int64_t>(type_bytes(l.type));
  return end <= allocation->begin + allocation->bytes;
}

double read(const void* base, int type, std::int64_t index) {
  switch (type) {
    case CUDA_R_32F: return static_cast<const float*>(base)[index];
    case CUDA_R_64F: return static_cast<const double*>(base)[index];
    default: return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[index]);
  }
}

void write(void* base, int type, std::int64_t index, double value) {
  switch (type) {
    case CUDA_R_32F: static_cast<float*>(base)[index] = static_cast<float>(value); break;
    case CUDA_R_64F: static_cast<double*>(base)[index] = value; break;
    default: static_cast<__nv_bfloat16*>(base)[index] = __float2bfloat16_rn(static_cast<float>(value)); break;
  }
}

// op(X) of batch `batch` as a dense column-major matrix of the compute type.
template <class Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> gather(const void* base, const MatrixLayout& l,
                                                             cublasOperation_t op, std::int32_t batch) {
  const auto [rows, columns] = operated(l, op);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> m(rows, columns);
  const std::int64_t offset = batch * l.batch_stride;
  for (std::uint64_t j = 0; j < columns; ++j) {
    for (std::uint64_t i = 0; i < rows; ++i) {
      const auto stored_row = static_cast<std::int64_t>(op == CUBLAS_OP_N ? i : j);
      const auto stored_column = static_cast<std::int64_t>(op == CUBLAS_OP_N ? j : i);
      m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
          static_cast<Scalar>(read(base, l.type, offset + stored_column * l.leading + stored_row));
    }
  }
  return m;
}

template <class Scalar>
void multiply(const MatmulDescription& d, Scalar alpha, Scalar beta, const void* a, const MatrixLayout& la,
              const void* b, const MatrixLayout& lb, const void* c, const MatrixLayout& lc, void* out,
              const MatrixLayout& lout) {
  const int bias_type = d.bias_type < 0 ? lout.type : d.bias_type;
  for (std::int32_t batch = 0; batch < lout.batch_count; ++batch) {
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> result =
        alpha * (gather<Scalar>(a, la, d.transa, batch) * gather<Scalar>(b, lb, d.transb, batch));
    if (beta != Scalar(0)) result += beta * gather<Scalar>(c, lc, CUBLAS_OP_N, batch);
    for (Eigen::Index j = 0; j < result.cols(); ++j) {
      for (Eigen::Index i = 0; i < result.rows(); ++i) {
        Scalar value = result(i, j);
        if (d.epilogue == CUBLASLT_EPILOGUE_BIAS) value += static_cast<Scalar>(read(d.bias, bias_type, i));
        write(out, lout.type, batch * lout.batch_stride + j * lout.leading + i, static_cast<double>(value));
      }
    }
  }
}

}  // namespace
}  // namespace primer::interpret

using namespace primer::interpret;

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) {
  *handle = new cublasLtContext{};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
    case CUBLAS_STATUS_INVALID_VALUE: return "an unsupported value or parameter was passed to the function";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    default: return "an unknown cuBLAS status";
  }
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* d, cublasComputeType_t compute,
                                        cudaDataType_t scale) {
  *d = reinterpret_cast<cublasLtMatmulDesc_t>(new MatmulDescription{compute, scale});
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) {
  delete description(d);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d,
                                              cublasLtMatmulDescAttributes_t attribute, const void* buffer,
                                              std::size_t bytes) {
  MatmulDescription& m = *description(d);
  switch (attribute) {
    case CUBLASLT_MATMUL_DESC_TRANSA: return set(m.transa, buffer, bytes);
    case CUBLASLT_MATMUL_DESC_TRANSB: return set(m.transb, buffer, bytes);
    case CUBLASLT_MATMUL_DESC_EPILOGUE: {
      const cublasStatus_t status = set(m.epilogue, buffer, bytes);
      if (status == CUBLAS_STATUS_SUCCESS && m.epilogue != CUBLASLT_EPILOGUE_DEFAULT &&
          m.epilogue != CUBLASLT_EPILOGUE_BIAS) {
        return refuse(CUBLAS_STATUS_NOT_SUPPORTED, "only the default and bias epilogues are emulated");
      }
      return status;
    }
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER: return set(m.bias, buffer, bytes);
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE: return set(m.bias_type, buffer, bytes);
    default:
      return refuse(CUBLAS_STATUS_NOT_SUPPORTED, "a matmul attribute the interpret mode does not emulate");
  }
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* l, cudaDataType type, std::uint64_t rows,
                                          std::uint64_t columns, std::int64_t leading) {
  if (type_bytes(type) == 0)
    return refuse(CUBLAS_STATUS_NOT_SUPPORTED, "a data type other than f32, f64, bf16");
  if (leading < static_cast<std::int64_t>(rows == 0 ? 1 : rows)) {
    return refuse(CUBLAS_STATUS_INVALID_VALUE, "a leading dimension smaller than the rows (column-major)");
  }
  *l = reinterpret_cast<cublasLtMatrixLayout_t>(new MatrixLayout{type, rows, columns, leading});
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) {
  delete layout(l);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t l,
                                                cublasLtMatrixLayoutAttribute_t attribute, const void* buffer,
                                                std::size_t bytes) {
  switch (attribute) {
    case CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT: {
      const cublasStatus_t status = set(layout(l)->batch_count, buffer, bytes);
      return status == CUBLAS_STATUS_SUCCESS && layout(l)->batch_count < 1
                 ? refuse(CUBLAS_STATUS_INVALID_VALUE, "a batch count below 1")
                 : status;
    }
    case CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET: return set(layout(l)->batch_stride, buffer, bytes);
    default:
      return refuse(CUBLAS_STATUS_NOT_SUPPORTED, "a layout attribute the interpret mode does not emulate");
  }
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* p) {
  *p = reinterpret_cast<cublasLtMatmulPreference_t>(new Preference{});
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) {
  delete preference(p);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p,
                                                    cublasLtMatmulPreferenceAttributes_t attribute,
                                                    const void* buffer, std::size_t bytes) {
  Preference& pref = *preference(p);
  switch (attribute) {
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES: return set(pref.workspace, buffer, bytes);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES: return set(pref.alignment[0], buffer, bytes);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES: return set(pref.alignment[1], buffer, bytes);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES: return set(pref.alignment[2], buffer, bytes);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES: return set(pref.alignment[3], buffer, bytes);
    default: return refuse(CUBLAS_STATUS_NOT_SUPPORTED, "a preference the interpret mode does not emulate");
  }
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t d,
                                              cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                              cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t out,
                                              cublasLtMatmulPreference_t p, int requested,
                                              cublasLtMatmulHeuristicResult_t results[], int* returned) {
  *returned = 0;
  if (requested < 1) return CUBLAS_STATUS_INVALID_VALUE;
  if (!supported_types(*description(d), *layout(a), *layout(b), *layout(c), *layout(out))) {
    return refuse(CUBLAS_STATUS_NOT_SUPPORTED, "no algorithm for this set of compute, scale and data types");
  }
  results[0] = cublasLtMatmulHeuristicResult_t{};
  // The algorithm remembers the alignments it was chosen for; cublasLtMatmul holds the operands to them.
  for (int i = 0; i < 4; ++i) results[0].algo.data[i] = preference(p)->alignment[i];
  results[0].state = CUBLAS_STATUS_SUCCESS;
  results[0].wavesCount = 1.0f;
  *returned = 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t d, const void* alpha,
                              const void* a, cublasLtMatrixLayout_t la, const void* b,
                              cublasLtMatrixLayout_t lb, const void* beta, const void* c,
                              cublasLtMatrixLayout_t lc, void* out, cublasLtMatrixLayout_t lout,
                              const cublasLtMatmulAlgo_t* algorithm, void*, std::size_t,
                              cudaStream_t stream) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const MatmulDescription m = *description(d);
  const MatrixLayout A = *layout(la), B = *layout(lb), C = *layout(lc), D = *layout(lout);
  if (!supported_types(m, A, B, C, D)) return refuse(CUBLAS_STATUS_NOT_SUPPORTED, "unsupported type set");
  const auto [m_a, k_a] = operated(A, m.transa);
  const auto [k_b, n_b] = operated(B, m.transb);
  if (k_a != k_b || C.rows != m_a || C.columns != n_b || D.rows != m_a || D.columns != n_b) {
    return refuse(CUBLAS_STATUS_INVALID_VALUE, "the shapes of op(A), op(B), C and D do not agree");
  }
  if (A.batch_count != D.batch_count || B.batch_count != D.batch_count || C.batch_count != D.batch_count) {
    return refuse(CUBLAS_STATUS_INVALID_VALUE, "the batch counts differ");
  }
  if (m.epilogue == CUBLASLT_EPILOGUE_BIAS && m.bias == nullptr) {
    return refuse(CUBLAS_STATUS_INVALID_VALUE, "the bias epilogue without a bias pointer");
  }
  const void* operands[4] = {a, b, c, out};
  const MatrixLayout* layouts[4] = {&A, &B, &C, &D};
  for (int i = 0; i < 4; ++i) {
    if (reinterpret_cast<std::uintptr_t>(operands[i]) % (algorithm != nullptr ? algorithm->data[i] : 256) !=
        0) {
      return refuse(CUBLAS_STATUS_INVALID_VALUE,
                    "an operand is less aligned than the preference the algorithm was chosen under");
    }
    if (!inside_allocation(operands[i], *layouts[i])) {
      return refuse(CUBLAS_STATUS_INVALID_VALUE,
                    "an operand runs past its device allocation (or is on the host)");
    }
  }
  // The descriptors and scalars as they are now: the caller may change or free them before the work runs.
  if (m.compute == CUBLAS_COMPUTE_64F) {
    const double alpha64 = *static_cast<const double*>(alpha), beta64 = *static_cast<const double*>(beta);
    enqueue(stream, [=] {
      const DeviceAccess access;
      multiply<double>(m, alpha64, beta64, a, A, b, B, c, C, out, D);
    });
  } else {
    const float alpha32 = *static_cast<const float*>(alpha), beta32 = *static_cast<const float*>(beta);
    enqueue(stream, [=] {
      const DeviceAccess access;
      multiply<float>(m, alpha32, beta32, a, A, b, B, c, C, out, D);
    });
  }
  return CUBLAS_STATUS_SUCCESS;
}
