# Every third-party library primer links, found the way Debian 12 packages it (see tools/setup.sh).
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Eigen3 3.4 REQUIRED CONFIG)
find_package(dnnl REQUIRED CONFIG)
find_package(yaml-cpp REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)
find_package(nlohmann_json 3.10 REQUIRED CONFIG)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SPM REQUIRED IMPORTED_TARGET sentencepiece)

# MPI (OpenMPI from Debian) launches and connects the ranks of a data-parallel run.
find_package(MPI REQUIRED COMPONENTS CXX)
