# One image holds every ferrolb binary at /: the operator (/manager, the entrypoint), /controller, /speaker and
# /configmaptocrs. Static binaries, no shell, non-root (distroless' nonroot, 65532). The lab packs the same
# layout in Go without a Docker engine (test/e2e/lab, projectBinaries); TestDockerfileLayout there parses this
# file and compares the two.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ENV GOTOOLCHAIN=local CGO_ENABLED=0

WORKDIR /workspace
# Cache the modules before copying the source, so source changes do not refetch them.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# Each binary as name=package; the lab's projectBinaries is the same list.
ARG BINARIES="manager=. controller=./cmd/controller speaker=./cmd/speaker configmaptocrs=./cmd/configmaptocrs"
RUN mkdir -p /out && \
    for b in ${BINARIES}; do \
      GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o "/out/${b%%=*}" "${b#*=}" || exit 1; \
    done

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /out/ /
USER 65532:65532
ENTRYPOINT ["/manager"]
