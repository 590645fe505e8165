# syntax=docker/dockerfile:1
#
# aidi's images, built with the same steps CI proves: scripts/bootstrap (every build dependency on a
# fresh Debian bookworm) and scripts/build (the CMake `release` preset), then one small stage per
# binary, each running as the numeric non-root user 65532 (the chart's securityContext.runAsUser
# and the uid the operator gives stage pods of built-in ops).
#
#   docker build --target operator           -t aidi/operator:0.1.0 .
#   docker build --target scheduler-extender -t aidi/scheduler-extender:0.1.0 .
#   docker build --target worker             -t aidi/worker:0.1.0 .
#
# Build arguments: CUDA_VERSION ("13.0"; empty builds a CPU-only worker), WORKER_BASE (below).

# The worker's base. aidi-worker links the CUDA runtime statically and no CUDA library besides
# (docs/design.md), so all it needs from a GPU machine is the driver's libcuda.so, which the NVIDIA
# container toolkit mounts into the container. nvidia/cuda's `base` flavour is the smallest image
# that asks for that: it sets NVIDIA_VISIBLE_DEVICES and NVIDIA_DRIVER_CAPABILITIES=compute,utility
# and NVIDIA_REQUIRE_CUDA (the toolkit refuses a driver too old for CUDA 13.0 with a clear error).
# The `runtime` flavour would add cuBLAS, cuFFT and more that the worker never loads. The binary is
# built on bookworm (glibc 2.36, GCC 12's libstdc++), older than this Ubuntu 24.04 (glibc 2.39), so
# it runs there unchanged. WORKER_BASE=debian:bookworm-slim also works (set the two NVIDIA_ variables
# on the pod then); the CPU path needs nothing more.
ARG WORKER_BASE=nvidia/cuda:13.0.0-base-ubuntu24.04

# ---- builder: bootstrap and build exactly as CI does ---------------------------------------------
FROM debian:bookworm AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV DEBIAN_FRONTEND=noninteractive
# nvcc for the worker's CUDA path, from NVIDIA's Debian 12 repository (the CMake build compiles the
# kernels wherever it finds nvcc, for sm_90 by default; without it the worker is CPU-only).
ARG CUDA_VERSION=13.0
RUN if [[ -n "${CUDA_VERSION}" ]]; then \
      pkg="${CUDA_VERSION//./-}" && \
      apt-get update -qq && \
      apt-get install -y -qq --no-install-recommends ca-certificates curl && \
      curl -fsSLo /tmp/cuda-keyring.deb \
        https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/cuda-keyring_1.1-1_all.deb && \
      dpkg -i /tmp/cuda-keyring.deb && rm /tmp/cuda-keyring.deb && \
      apt-get update -qq && \
      apt-get install -y -qq --no-install-recommends \
        "cuda-nvcc-${pkg}" "cuda-cudart-dev-${pkg}" "cuda-cccl-${pkg}" && \
      rm -rf /var/lib/apt/lists/*; \
    fi
ENV PATH=/usr/local/cuda-${CUDA_VERSION}/bin:${PATH}
WORKDIR /src
# Dependencies first (scripts/bootstrap reads only itself and the DuckDB version pin), so that a
# source change reuses this layer. It is idempotent: the second run below finds everything there.
COPY scripts/bootstrap scripts/bootstrap
COPY cmake/duckdb-version.txt cmake/duckdb-version.txt
RUN scripts/bootstrap
COPY . .
RUN --mount=type=cache,target=/root/.cache/ccache \
    scripts/bootstrap && scripts/build release && \
    ls -l build/bin/aidi-operator build/bin/aidi-scheduler-extender build/bin/aidi-worker

# ---- the operator and the extender: Debian slim with the shared libraries they link --------------
FROM debian:bookworm-slim AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# `ldd build/bin/aidi-operator` and `ldd build/bin/aidi-scheduler-extender`: yaml-cpp, cpprest
# (with OpenSSL, Brotli, zlib), prometheus-cpp core; libstdc++ is in the base image.
RUN apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends \
      ca-certificates libyaml-cpp0.7 libcpprest2.10 libprometheus-cpp-core1.0 libssl3 libbrotli1 zlib1g && \
    rm -rf /var/lib/apt/lists/* && \
    groupadd --gid 65532 aidi && \
    useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin aidi

FROM runtime AS operator
COPY --from=builder /src/build/bin/aidi-operator /usr/local/bin/aidi-operator
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/aidi-operator"]

FROM runtime AS scheduler-extender
COPY --from=builder /src/build/bin/aidi-scheduler-extender /usr/local/bin/aidi-scheduler-extender
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/aidi-scheduler-extender"]

# ---- the worker: every built-in op stage runs `aidi-worker run ...` in this image ---------------
FROM ${WORKER_BASE} AS worker
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# aidi-worker's RUNPATH names the builder's /src/.tools/duckdb/lib, which is not here: libduckdb.so
# goes to /opt/aidi/lib, registered with the dynamic linker (ld.so.conf.d + ldconfig), so it is
# found whatever the pod's environment (a stage's env cannot unset it, as it could LD_LIBRARY_PATH).
# Its other libraries (libstdc++, libm, libgcc_s, libc) are in every base.
COPY --from=builder /src/.tools/duckdb/lib/libduckdb.so /opt/aidi/lib/libduckdb.so
COPY --from=builder /src/build/bin/aidi-worker /usr/local/bin/aidi-worker
RUN echo /opt/aidi/lib >/etc/ld.so.conf.d/aidi.conf && ldconfig && \
    (getent group 65532 >/dev/null || groupadd --gid 65532 aidi) && \
    (getent passwd 65532 >/dev/null || \
      useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin aidi) && \
    ldd /usr/local/bin/aidi-worker | grep -q 'libduckdb.so => /opt/aidi/lib/libduckdb.so' && \
    aidi-worker --help >/dev/null
# Stage pods mount their workspace at /workspace and a writable /tmp; the root filesystem is
# read-only there.
WORKDIR /workspace
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/aidi-worker"]
