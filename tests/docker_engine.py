"""A Docker engine for the docker-provider test, and server images it can run.

Where an engine already answers and can pull images (GitHub's runners), the
test uses it with the official images. Otherwise it starts `dockerd` with its
data and socket in a temporary folder (the machine's firewall left alone) and
builds PostgreSQL and Redis images locally from a Debian root filesystem made
by debootstrap, since no image can be pulled.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

IMAGES_DIR = Path(__file__).parent / "docker_images"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("postgresql", "redis-server")
LOCAL_IMAGES = {
    "TEST_POSTGRES_IMAGE": ("local/test-postgres:latest", "postgres.Dockerfile"),
    "TEST_REDIS_IMAGE": ("local/test-redis:latest", "redis.Dockerfile"),
}


class EngineFailed(RuntimeError):
    pass


def missing_tools() -> list[str]:
    return [tool for tool in ("dockerd", "docker", "debootstrap") if shutil.which(tool) is None]


class DefaultEngine:
    """The engine the docker CLI reaches without options (DOCKER_HOST or the system socket)."""

    def docker(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], capture_output=True, text=True, **kwargs)


class LocalDockerEngine:
    """dockerd with its data, state and socket under `root`, stopped and removed by stop()."""

    def __init__(self, *, root: Path) -> None:
        self.root = root
        self.host = f"unix://{root / 'docker.sock'}"
        self.log: list[str] = []
        self._ready = threading.Event()
        self._process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 60.0) -> str:
        self._process = subprocess.Popen(
            [
                "dockerd",
                f"--data-root={self.root / 'data'}",
                f"--exec-root={self.root / 'exec'}",
                f"--pidfile={self.root / 'docker.pid'}",
                f"--host={self.host}",
                "--iptables=false",
                "--ip-forward=false",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self._ready.wait(timeout) or self._process.poll() is not None:
            self.stop()
            raise EngineFailed("dockerd did not start:\n" + "\n".join(self.log[-30:]))
        return self.host

    def _read_log(self) -> None:
        assert self._process is not None
        for line in self._process.stdout or ():
            self.log.append(line.rstrip())
            if "API listen on" in line:
                self._ready.set()
        self._ready.set()

    def docker(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker", "--host", self.host, *args], capture_output=True, text=True, **kwargs
        )

    def stop(self, timeout: float = 30.0) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def rootfs_tarball(cache_dir: Path) -> Path:
    """A Debian root filesystem with PostgreSQL and Redis, built once and cached."""
    recipe = f"{SUITE} {MIRROR} {' '.join(PACKAGES)}"
    tarball = cache_dir / f"rootfs-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}.tar"
    if tarball.exists():
        return tarball
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as build:
        rootfs = Path(build) / "rootfs"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(rootfs),
                MIRROR,
            ],
            check=True,
            capture_output=True,
        )
        partial = Path(build) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
    return tarball


def build_local_images(engine: LocalDockerEngine, cache_dir: Path) -> dict[str, str]:
    """Import the root filesystem and build the server images; return their image variables."""
    base = "local/test-debian-services:latest"
    with rootfs_tarball(cache_dir).open("rb") as tar:
        imported = engine.docker("import", "-", base, stdin=tar)
    if imported.returncode != 0:
        raise EngineFailed(f"docker import failed:\n{imported.stderr}")
    images = {}
    for variable, (tag, dockerfile) in LOCAL_IMAGES.items():
        built = engine.docker(
            "build", "--quiet", "--build-arg", f"BASE={base}", "--tag", tag,
            "--file", str(IMAGES_DIR / dockerfile), str(IMAGES_DIR),
        )  # fmt: skip
        if built.returncode != 0:
            raise EngineFailed(f"docker build {tag} failed:\n{built.stderr}")
        images[variable] = tag
    return images


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "service-template" / "docker"
