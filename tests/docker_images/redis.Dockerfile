# Redis from Debian's packages, listening like the official image.
ARG BASE
FROM ${BASE}
EXPOSE 6379
ENTRYPOINT ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]
