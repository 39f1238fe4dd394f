// The interpret mode's cuBLASLt on its own: hand-computed products whose transposes and leading
// dimensions a misreading of the column-major convention would get wrong, a grid of shapes, ops, padded
// leading dimensions, strided and broadcast batches and type sets against a loop written from NVIDIA's
// definition (D = alpha op(A) op(B) + beta C, plus the bias per row of D), and what the library refuses.
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

namespace {

struct Matrix {
  cudaDataType_t type;
  std::int64_t rows, columns, leading, batch_count = 1, batch_stride = 0;
};

std::size_t element_bytes(cudaDataType_t type) {
  return type == CUDA_R_64F ? 8 : type == CUDA_R_32F ? 4 : 2;
}

void* to_device(const std::vector<double>& values, cudaDataType_t type) {
  std::vector<unsigned char> bytes(values.size() * element_bytes(type));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (type == CUDA_R_64F) std::memcpy(&bytes[i * 8], &values[i], 8);
    if (type == CUDA_R_32F) {
      const auto value = static_cast<float>(values[i]);
      std::memcpy(&bytes[i * 4], &value, 4);
    }
    if (type == CUDA_R_16BF) {
      const __nv_bfloat16 value = __float2bfloat16_rn(static_cast<float>(values[i]));
      std::memcpy(&bytes[i * 2], &value, 2);
    }
  }
  void* device = nullptr;
  EXPECT_EQ(cudaMalloc(&device, bytes.size()), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(device, bytes.data(), bytes.size(), cudaMemcpyHostToDevice), cudaSuccess);
  return device;
}

std::vector<double> from_device(const void* device, std::size_t count, cudaDataType_t type) {
  std::vector<unsigned char> bytes(count * element_bytes(type));
  EXPECT_EQ(cudaMemcpy(bytes.data(), device, bytes.size(), cudaMemcpyDeviceToHost), cudaSuccess);
  std::vector<double> values(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (type == CUDA_R_64F) std::memcpy(&values[i], &bytes[i * 8], 8);
    if (type == CUDA_R_32F) {
      float value;
      std::memcpy(&value, &bytes[i * 4], 4);
      values[i] = value;
    }
    if (type == CUDA_R_16BF) {
      __nv_bfloat16 value;
      std::memcpy(&value, &bytes[i * 2], 2);
      values[i] = __bfloat162float(value);
    }
  }
  return values;
}

struct Product {
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  cublasOperation_t transa = CUBLAS_OP_N, transb = CUBLAS_OP_N;
  Matrix a, b, d;
  const void* bias = nullptr;
  cudaDataType_t bias_type = CUDA_R_32F;
  double alpha = 1.0, beta = 0.0;
  std::uint32_t alignment = 4;
};

cublasLtMatrixLayout_t layout(const Matrix& m) {
  cublasLtMatrixLayout_t l = nullptr;
  if (cublasLtMatrixLayoutCreate(&l, m.type, static_cast<std::uint64_t>(m.rows),
                                 static_cast<std::uint64_t>(m.columns), m.leading) != CUBLAS_STATUS_SUCCESS) {
    return nullptr;
  }
  const auto count = static_cast<std::int32_t>(m.batch_count);
  cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count));
  cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &m.batch_stride,
                                   sizeof(m.batch_stride));
  return l;
}

// Runs D = alpha op(A) op(B) + beta D (+ bias), C being D; the status of the first call that failed.
cublasStatus_t multiply(const Product& p, const void* a, const void* b, void* d) {
  cublasLtHandle_t handle = nullptr;
  cublasLtCreate(&handle);
  cublasLtMatmulDesc_t description = nullptr;
  const cudaDataType_t scale = p.compute == CUBLAS_COMPUTE_64F ? CUDA_R_64F : CUDA_R_32F;
  cublasLtMatmulDescCreate(&description, p.compute, scale);
  cublasLtMatmulDescSetAttribute(description, CUBLASLT_MATMUL_DESC_TRANSA, &p.transa, sizeof(p.transa));
  cublasLtMatmulDescSetAttribute(description, CUBLASLT_MATMUL_DESC_TRANSB, &p.transb, sizeof(p.transb));
  if (p.bias != nullptr) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    cublasLtMatmulDescSetAttribute(description, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue));
    cublasLtMatmulDescSetAttribute(description, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &p.bias, sizeof(p.bias));
    cublasLtMatmulDescSetAttribute(description, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &p.bias_type,
                                   sizeof(p.bias_type));
  }
  cublasLtMatrixLayout_t la = layout(p.a), lb = layout(p.b), ld = layout(p.d);
  cublasStatus_t status = CUBLAS_STATUS_INVALID_VALUE;
  if (la != nullptr && lb != nullptr && ld != nullptr) {
    cublasLtMatmulPreference_t preference = nullptr;
    cublasLtMatmulPreferenceCreate(&preference);
    for (const auto attribute :
         {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
          CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
      cublasLtMatmulPreferenceSetAttribute(preference, attribute, &p.alignment, sizeof(p.alignment));
    }
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    status =
        cublasLtMatmulAlgoGetHeuristic(handle, description, la, lb, ld, ld, preference, 1, &result, &found);
    if (status == CUBLAS_STATUS_SUCCESS) {
      const float alpha32 = static_cast<float>(p.alpha), beta32 = static_cast<float>(p.beta);
      const bool f64 = p.compute == CUBLAS_COMPUTE_64F;
      status = cublasLtMatmul(handle, description, f64 ? static_cast<const void*>(&p.alpha) : &alpha32, a, la,
                              b, lb, f64 ? static_cast<const void*>(&p.beta) : &beta32, d, ld, d, ld,
                              &result.algo, nullptr, 0, nullptr);
    }
    cublasLtMatmulPreferenceDestroy(preference);
  }
  for (auto* l : {la, lb, ld}) {
    if (l != nullptr) cublasLtMatrixLayoutDestroy(l);
  }
  cublasLtMatmulDescDestroy(description);
  cublasLtDestroy(handle);
  return status;
}

std::int64_t elements(const Matrix& m) {
  return (m.batch_count - 1) * m.batch_stride + (m.columns - 1) * m.leading + m.rows;
}

TEST(CublasLtEmulation, HandComputedProductsWithTransposesPaddingAndBias) {
  // A = [[1 2 3] [4 5 6]] and B = [[7 8] [9 10] [11 12]]: A B = [[58 64] [139 154]].
  const std::vector<double> a_column_major{1, 4, 2, 5, 3, 6};
  const std::vector<double> a_transposed_padded{1, 2, 3, -1, 4, 5, 6, -1};  // A^T stored 3 x 2 with ld 4
  const std::vector<double> b_column_major{7, 9, 11, 8, 10, 12};
  const std::vector<double> bias{1, -1};
  for (const bool transposed : {false, true}) {
    SCOPED_TRACE(transposed ? "A stored transposed with ld 4" : "A stored as is");
    Product p;
    p.transa = transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
    p.a = transposed ? Matrix{CUDA_R_32F, 3, 2, 4} : Matrix{CUDA_R_32F, 2, 3, 2};
    p.b = {CUDA_R_32F, 3, 2, 3};
    p.d = {CUDA_R_32F, 2, 2, 2};
    void* a = to_device(transposed ? a_transposed_padded : a_column_major, CUDA_R_32F);
    void* b = to_device(b_column_major, CUDA_R_32F);
    void* d = to_device({0, 0, 0, 0}, CUDA_R_32F);
    void* bias_device = to_device(bias, CUDA_R_32F);
    ASSERT_EQ(multiply(p, a, b, d), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(from_device(d, 4, CUDA_R_32F), (std::vector<double>{58, 139, 64, 154}));
    p.bias = bias_device;
    ASSERT_EQ(multiply(p, a, b, d), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(from_device(d, 4, CUDA_R_32F), (std::vector<double>{59, 138, 65, 153})) << "bias per row of D";
    for (void* pointer : {a, b, d, bias_device}) cudaFree(pointer);
  }
}

// The documentation's definition, element by element, in double.
std::vector<double> reference(const Product& p, const std::vector<double>& a, const std::vector<double>& b,
                              const std::vector<double>& c, const std::vector<double>& bias) {
  std::vector<double> d = c;
  const std::int64_t m = p.d.rows, n = p.d.columns, k = p.transa == CUBLAS_OP_N ? p.a.columns : p.a.rows;
  for (std::int64_t batch = 0; batch < p.d.batch_count; ++batch) {
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        double total = 0.0;
        for (std::int64_t l = 0; l < k; ++l) {
          const double a_il = p.transa == CUBLAS_OP_N ? a[batch * p.a.batch_stride + l * p.a.leading + i]
                                                      : a[batch * p.a.batch_stride + i * p.a.leading + l];
          const double b_lj = p.transb == CUBLAS_OP_N ? b[batch * p.b.batch_stride + j * p.b.leading + l]
                                                      : b[batch * p.b.batch_stride + l * p.b.leading + j];
          total += a_il * b_lj;
        }
        double& out = d[batch * p.d.batch_stride + j * p.d.leading + i];
        out = p.alpha * total + p.beta * out + (bias.empty() ? 0.0 : bias[i]);
      }
    }
  }
  return d;
}

std::vector<double> values(std::int64_t count, int seed) {
  std::vector<double> v(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) v[i] = static_cast<double>((i * 37 + seed * 11) % 17) / 8.0 - 1.0;
  return v;
}

TEST(CublasLtEmulation, AGridOfShapesOpsLeadingDimensionsBatchesAndTypesMatchTheDefinition) {
  int cases = 0;
  for (const auto& [a_type, d_type, compute] : {std::tuple{CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F},
                                                std::tuple{CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F},
                                                std::tuple{CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F},
                                                std::tuple{CUDA_R_64F, CUDA_R_64F, CUBLAS_COMPUTE_64F}}) {
    for (const std::int64_t m : {1, 5}) {
      for (const std::int64_t n : {1, 6}) {
        for (const std::int64_t k : {1, 7}) {
          for (const auto transa : {CUBLAS_OP_N, CUBLAS_OP_T}) {
            for (const auto transb : {CUBLAS_OP_N, CUBLAS_OP_T}) {
              for (const std::int64_t pad : {0, 3}) {
                for (const std::int64_t batches : {1, 3}) {
                  Product p;
                  p.compute = compute;
                  p.transa = transa;
                  p.transb = transb;
                  const std::int64_t a_rows = transa == CUBLAS_OP_N ? m : k,
                                     a_columns = transa == CUBLAS_OP_N ? k : m;
                  const std::int64_t b_rows = transb == CUBLAS_OP_N ? k : n,
                                     b_columns = transb == CUBLAS_OP_N ? n : k;
                  // A broadcast over the batch (stride 0); B and D strided with room to spare.
                  p.a = {a_type, a_rows, a_columns, a_rows + pad, batches, 0};
                  p.b = {a_type, b_rows, b_columns, b_rows + pad, batches, (b_rows + pad) * b_columns + 2};
                  p.d = {d_type, m, n, m + pad, batches, (m + pad) * n + 1};
                  p.alpha = 0.5;
                  p.beta = pad > 0 ? 1.0 : 0.0;
                  const auto a = values(elements(p.a), 1), b = values(elements(p.b), 2),
                             c = values(elements(p.d), 3),
                             bias = m == 5 ? values(m, 4) : std::vector<double>{};
                  auto rounded = [&](std::vector<double> v, cudaDataType_t type) {
                    return from_device(to_device(v, type), v.size(), type);  // as the device holds them
                  };
                  void* da = to_device(a, a_type);
                  void* db = to_device(b, a_type);
                  void* dd = to_device(c, d_type);
                  void* dbias = bias.empty() ? nullptr : to_device(bias, d_type);
                  p.bias = dbias;
                  p.bias_type = d_type;
                  ASSERT_EQ(multiply(p, da, db, dd), CUBLAS_STATUS_SUCCESS);
                  const auto expected =
                      reference(p, rounded(a, a_type), rounded(b, a_type), rounded(c, d_type),
                                bias.empty() ? bias : rounded(bias, d_type));
                  const auto got = from_device(dd, expected.size(), d_type);
                  const double tolerance = d_type == CUDA_R_16BF ? 1e-2 : a_type == CUDA_R_64F ? 1e-12 : 1e-5;
                  for (std::size_t i = 0; i < expected.size(); ++i) {
                    ASSERT_NEAR(got[i], expected[i], tolerance * (1.0 + std::abs(expected[i])))
                        << "m " << m << " n " << n << " k " << k << " ops " << transa << transb << " pad "
                        << pad << " batches " << batches << " element " << i;
                  }
                  for (void* pointer : {da, db, dd, dbias}) cudaFree(pointer);
                  ++cases;
                }
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 4 * 2 * 2 * 2 * 2 * 2 * 2 * 2);
}

TEST(CublasLtEmulation, RefusesWhatTheLibraryRefuses) {
  void* a = to_device(values(64, 1), CUDA_R_32F);
  void* b = to_device(values(64, 2), CUDA_R_32F);
  void* d = to_device(values(8, 3), CUDA_R_32F);
  Product p;
  p.a = {CUDA_R_32F, 2, 3, 1};  // ld below the rows
  p.b = {CUDA_R_32F, 3, 2, 3};
  p.d = {CUDA_R_32F, 2, 2, 2};
  EXPECT_EQ(multiply(p, a, b, d), CUBLAS_STATUS_INVALID_VALUE) << "ld < rows";
  p.a = {CUDA_R_32F, 2, 4, 2};
  EXPECT_EQ(multiply(p, a, b, d), CUBLAS_STATUS_INVALID_VALUE) << "k of op(A) 4 against 3 of op(B)";
  p.a = {CUDA_R_32F, 2, 3, 2};
  p.d = {CUDA_R_16BF, 2, 2, 2};
  EXPECT_EQ(multiply(p, a, b, d), CUBLAS_STATUS_NOT_SUPPORTED) << "f32 inputs with a bf16 output";
  p.d = {CUDA_R_32F, 2, 5, 2};
  p.b = {CUDA_R_32F, 3, 5, 3};
  EXPECT_EQ(multiply(p, a, b, d), CUBLAS_STATUS_INVALID_VALUE) << "D of 10 floats in an allocation of 8";
  p.b = {CUDA_R_32F, 3, 2, 3};
  p.d = {CUDA_R_32F, 2, 2, 2};
  p.alignment = 16;
  EXPECT_EQ(multiply(p, static_cast<float*>(a) + 1, b, d), CUBLAS_STATUS_INVALID_VALUE)
      << "A 4 bytes into its allocation, the heuristic told 16";
  EXPECT_EQ(multiply(p, a, b, d), CUBLAS_STATUS_SUCCESS);
  p.d = {CUDA_R_32F, 2, 2, 2, 2, 6};
  p.a.batch_count = p.b.batch_count = 2;
  EXPECT_EQ(multiply(p, a, b, d), CUBLAS_STATUS_INVALID_VALUE) << "a second batch of D past its 8 floats";
  for (void* pointer : {a, b, d}) cudaFree(pointer);
}

}  // namespace
