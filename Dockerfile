# One image holds every ferrolb binary (/manager today; the controller, speaker and configmaptocrs join it as
# they are built). Static binaries, no shell, non-root. The lab packs the same layout in Go (no Docker engine
# is needed there); this file is for users building with a container engine.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ENV GOTOOLCHAIN=local CGO_ENABLED=0

WORKDIR /workspace
# Cache the modules before copying the source, so source changes do not refetch them.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN mkdir -p /out && \
    GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o /out/manager . && \
    # cmd/main.go is a link to the operator's main.go for kubebuilder; the binaries are cmd/<name>/.
    for pkg in $(go list ./cmd/... | grep -v '/cmd$'); do \
      GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o /out/ "$pkg"; \
    done

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /out/ /
USER 65532:65532
ENTRYPOINT ["/manager"]
