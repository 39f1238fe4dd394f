// Matrix products through cuBLASLt. cuBLASLt is column-major, so the row-major product out = a b is
// computed as out^T = b^T a^T: a row-major [M, K] matrix read column-major is its transpose, with no
// copy; a transposed view (stride 1 along rows) is read with op T instead. Descriptors and the chosen
// algorithm are cached per shape, strides and dtypes, so a training loop plans each product once.
// f32 operands compute in exact f32 (no TF32) for parity with the CPU; bf16 operands accumulate in f32.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "backend/cuda/cuda_kernel_support.h"
#include "backend/cuda/element_type.h"
#include "ops/activation/activation.cuh"
#include "ops/matmul/matmul_kernels.h"

namespace primer::cuda {
namespace {

constexpr std::size_t kWorkspaceBytes = std::size_t{32} << 20;

cudaDataType_t data_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return CUDA_R_32F;
    case DType::f64: return CUDA_R_64F;
    case DType::bf16: return CUDA_R_16BF;
    default: PRIMER_FAIL("matmul: no cuBLASLt type for {}", dtype_name(dtype));
  }
}

// The largest power of two, up to 256, that divides the address: cuBLASLt's heuristic may otherwise pick
// a kernel that assumes 256-byte alignment, which a view into the middle of a tensor does not have.
std::uint32_t alignment_of(const void* pointer) {
  const auto address = reinterpret_cast<std::uintptr_t>(pointer);
  std::uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

// One operand as cuBLASLt stores it (column-major), and the op that turns it into what the product reads.
struct Stored {
  cublasOperation_t op;
  std::uint64_t rows, columns;
  std::int64_t leading;
  std::int64_t batch_stride;
};

// A row-major [r, c] operand, possibly a transposed view, as the column-major [c, r] matrix cuBLASLt reads.
Stored stored(const Tensor& t) {
  const std::int64_t r = t.size(-2), c = t.size(-1);
  const std::int64_t batch_stride = t.dim() == 3 && t.size(0) > 1 ? t.stride(0) : 0;
  if (t.stride(-1) == 1 || c == 1) {
    return {CUBLAS_OP_N, static_cast<std::uint64_t>(c), static_cast<std::uint64_t>(r),
            std::max<std::int64_t>(r == 1 ? c : t.stride(-2), std::max<std::int64_t>(c, 1)), batch_stride};
  }
  PRIMER_CHECK(t.stride(-2) == 1, "matmul: operand {} with strides [{}] is neither row-major nor transposed",
               t.describe(), fmt::join(t.strides(), ", "));
  return {CUBLAS_OP_T, static_cast<std::uint64_t>(r), static_cast<std::uint64_t>(c),
          std::max<std::int64_t>(t.stride(-1), std::max<std::int64_t>(r, 1)), batch_stride};
}

class Layout {
 public:
  Layout(cudaDataType_t type, std::uint64_t rows, std::uint64_t columns, std::int64_t leading,
         std::int32_t batch, std::int64_t batch_stride) {
    PRIMER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&layout_, type, rows, columns, leading));
    PRIMER_CUBLAS_CHECK(
        cublasLtMatrixLayoutSetAttribute(layout_, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof(batch)));
    PRIMER_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layout_, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                         &batch_stride, sizeof(batch_stride)));
  }
  ~Layout() { cublasLtMatrixLayoutDestroy(layout_); }
  Layout(const Layout&) = delete;
  Layout& operator=(const Layout&) = delete;
  cublasLtMatrixLayout_t get() const { return layout_; }

 private:
  cublasLtMatrixLayout_t layout_ = nullptr;
};

struct Plan {
  cublasLtMatmulDesc_t description = nullptr;
  std::unique_ptr<Layout> a, b, d;
  cublasLtMatmulAlgo_t algorithm{};
  ~Plan() {
    if (description != nullptr) cublasLtMatmulDescDestroy(description);
  }
};

// The cuBLASLt handle, its workspace and a plan per shape, made on first use.
struct MatmulPlans {
  cublasLtHandle_t handle = nullptr;
  std::mutex mutex;
  std::unordered_map<std::string, std::unique_ptr<Plan>> plans;
  Tensor workspace;
  MatmulPlans() {
    PRIMER_CUBLAS_CHECK(cublasLtCreate(&handle));
    workspace = Tensor::empty({static_cast<std::int64_t>(kWorkspaceBytes / 4)}, DType::i32, Device::cuda());
  }
  ~MatmulPlans() {
    plans.clear();
    if (handle != nullptr) cublasLtDestroy(handle);
  }
  MatmulPlans(const MatmulPlans&) = delete;
  MatmulPlans& operator=(const MatmulPlans&) = delete;
};

MatmulPlans& matmul_plans() {
  static MatmulPlans plans;
  return plans;
}

}  // namespace

void matmul(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out, bool accumulate,
            std::optional<Activation> activation) {
  PRIMER_CHECK(!activation || (!accumulate && (out.dtype() == DType::f32 || out.dtype() == DType::bf16)),
               "matmul: an activation follows an f32 or bf16 product that overwrites out, not {}{}",
               out.describe(), accumulate ? " accumulated" : "");
  const bool f64 = a.dtype() == DType::f64;
  const std::int64_t m = a.size(-2), n = b.size(-1), k = a.size(-1);
  const std::int64_t batch = a.dim() == 3 ? a.size(0) : 1;
  if (m == 0 || n == 0) return;
  MatmulPlans& plans = matmul_plans();
  cublasLtHandle_t handle = plans.handle;
  const Stored sb = stored(b), sa = stored(a);
  const std::uint32_t align_b = alignment_of(b.data_ptr()), align_a = alignment_of(a.data_ptr()),
                      align_out = alignment_of(out.data_ptr());
  const std::string key = fmt::format(
      "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{},{},{}", m, n, k, batch, static_cast<int>(sb.op), sb.leading,
      sb.batch_stride, static_cast<int>(sa.op), sa.leading, sa.batch_stride,
      fmt::join(std::vector<int>{static_cast<int>(a.dtype()), static_cast<int>(out.dtype())}, ","),
      bias.defined(), align_b, align_a, align_out);
  Plan* plan = nullptr;
  {
    std::lock_guard lock(plans.mutex);
    auto& slot = plans.plans[key];
    if (!slot) {
      auto created = std::make_unique<Plan>();
      const cublasComputeType_t compute = f64 ? CUBLAS_COMPUTE_64F : CUBLAS_COMPUTE_32F;
      const cudaDataType_t scale_type = f64 ? CUDA_R_64F : CUDA_R_32F;
      PRIMER_CUBLAS_CHECK(cublasLtMatmulDescCreate(&created->description, compute, scale_type));
      PRIMER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(created->description, CUBLASLT_MATMUL_DESC_TRANSA,
                                                         &sb.op, sizeof(sb.op)));
      PRIMER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(created->description, CUBLASLT_MATMUL_DESC_TRANSB,
                                                         &sa.op, sizeof(sa.op)));
      if (bias.defined()) {
        const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
        const cudaDataType_t bias_type = data_type(bias.dtype());
        PRIMER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
            created->description, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
        PRIMER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
            created->description, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof(bias_type)));
      }
      const auto batch32 = static_cast<std::int32_t>(batch);
      created->a = std::make_unique<Layout>(data_type(b.dtype()), sb.rows, sb.columns, sb.leading, batch32,
                                            sb.batch_stride);
      created->b = std::make_unique<Layout>(data_type(a.dtype()), sa.rows, sa.columns, sa.leading, batch32,
                                            sa.batch_stride);
      created->d = std::make_unique<Layout>(data_type(out.dtype()), static_cast<std::uint64_t>(n),
                                            static_cast<std::uint64_t>(m), n, batch32, m * n);
      cublasLtMatmulPreference_t preference = nullptr;
      PRIMER_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
      const std::uint64_t workspace = kWorkspaceBytes;
      PRIMER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
          preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace)));
      // cuBLASLt's A is our b and its B our a (the column-major transpose above); C and D are out.
      for (const auto& [attribute, alignment] :
           {std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, align_b},
            std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, align_a},
            std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, align_out},
            std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, align_out}}) {
        PRIMER_CUBLAS_CHECK(
            cublasLtMatmulPreferenceSetAttribute(preference, attribute, &alignment, sizeof(alignment)));
      }
      cublasLtMatmulHeuristicResult_t result{};
      int found = 0;
      const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
          handle, created->description, created->a->get(), created->b->get(), created->d->get(),
          created->d->get(), preference, 1, &result, &found);
      cublasLtMatmulPreferenceDestroy(preference);
      PRIMER_CHECK(status == CUBLAS_STATUS_SUCCESS && found > 0,
                   "matmul: cuBLASLt has no algorithm for a {} x b {} -> {}: {}", a.describe(), b.describe(),
                   out.describe(), cublasGetStatusString(status));
      created->algorithm = result.algo;
      slot = std::move(created);
    }
    plan = slot.get();
  }
  if (bias.defined()) {
    PRIMER_CHECK(bias.is_contiguous() && bias.numel() == n && bias.device() == out.device(),
                 "matmul: bias {} must be a contiguous [{}] on the device", bias.describe(), n);
    const void* pointer = bias.data_ptr();
    PRIMER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->description, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                       &pointer, sizeof(pointer)));
  }
  // beta 1 reads out as C and adds the product to it in the GEMM's epilogue.
  const double alpha64 = 1.0, beta64 = accumulate ? 1.0 : 0.0;
  const float alpha32 = 1.0f, beta32 = accumulate ? 1.0f : 0.0f;
  const void* alpha = f64 ? static_cast<const void*>(&alpha64) : static_cast<const void*>(&alpha32);
  const void* beta = f64 ? static_cast<const void*>(&beta64) : static_cast<const void*>(&beta32);
  PRIMER_CUBLAS_CHECK(cublasLtMatmul(handle, plan->description, alpha, b.data_ptr(), plan->a->get(),
                                     a.data_ptr(), plan->b->get(), beta, out.data_ptr(), plan->d->get(),
                                     out.data_ptr(), plan->d->get(), &plan->algorithm,
                                     plans.workspace.data_ptr(), kWorkspaceBytes, stream()));
  // cuBLASLt's epilogues have ReLU and GELU but no squared ReLU: one pass over out, in place.
  if (activation) {
    PRIMER_CUDA_CHECK(kernels::activation_in_place(*activation, element_type(out.dtype()), out.data_ptr(),
                                                   out.numel(), stream()));
  }
}

}  // namespace primer::cuda
