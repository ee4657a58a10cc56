# Multi-stage build of the sectwin binary. Used by docker-compose.yml; needs a Docker engine.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/sectwin ./cmd/sectwin

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sectwin /usr/local/bin/sectwin
USER nonroot:nonroot
WORKDIR /data
ENV SECTWIN_DATA_DIR=/data SECTWIN_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/sectwin"]
CMD ["serve"]
