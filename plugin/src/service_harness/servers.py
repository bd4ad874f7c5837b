"""The run's servers: started once, before the first test that needs them, and stopped
at the end of the run, also when it fails or is interrupted.
"""

import pytest

from service_harness.providers import obtain_server
from service_harness.services import InfrastructureError, Server, Service
from service_harness.xdist import WorkerPayload, payload_of


class RunServers:
    """The services this project's tests use, and the server the run has for each."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.services: dict[str, Service] = {}
        self.servers: dict[str, Server] = {}

    def register(self, service: Service) -> None:
        self.services[service.key] = service

    def server_for(self, service: Service) -> Server:
        """The run's server for `service`: obtained on first use, or the controller's."""
        if service.key not in self.servers:
            payload = payload_of(self.config)
            if payload is not None and service.key in payload["servers"]:
                url = payload["servers"][service.key]
                server = Server(service=service, url=url, provider="shared", detail="xdist")
            else:
                server = obtain_server(self.config, service)
                problem = service.unusable(server.url)
                if problem:
                    server.stop()
                    raise InfrastructureError(f"{service.name} at {server.display_url}: {problem}")
                announce(self.config, server.describe())
            self.servers[service.key] = server
        return self.servers[service.key]

    def payload_for_worker(self, worker: str) -> WorkerPayload:
        """xdist controller: every server, and what each service prepared for `worker`."""
        payload = WorkerPayload(servers={}, prepared={})
        for service in self.services.values():
            server = self.server_for(service)
            payload["servers"][service.key] = server.url
            prepared = service.prepare_worker(self.config, server, worker)
            if prepared is not None:
                payload["prepared"][service.key] = prepared
        return payload

    def dead(self) -> list[tuple[Server, str]]:
        """The servers that died during the run, with what they left behind."""
        return [(s, problem) for s in self.servers.values() if (problem := s.problem())]

    def stop(self) -> None:
        """Let services clean up, then stop every server this process started."""
        for service in self.services.values():
            if service.key in self.servers:
                service.finish(self.config)
        while self.servers:
            _, server = self.servers.popitem()
            server.stop()


RUN_SERVERS = pytest.StashKey[RunServers]()


def run_servers(config: pytest.Config) -> RunServers:
    """The run's servers; made on first use, whichever plugin's pytest_configure comes first."""
    if RUN_SERVERS not in config.stash:
        config.stash[RUN_SERVERS] = RunServers(config)
    return config.stash[RUN_SERVERS]


def register_service(config: pytest.Config, service: Service) -> None:
    """Declare that this project's tests use `service` (from its module's pytest_configure)."""
    run_servers(config).register(service)


def server_for(config: pytest.Config, service: Service) -> Server:
    return run_servers(config).server_for(service)


def announce(config: pytest.Config, message: str) -> None:
    """Print a line in the terminal, also from inside a fixture (whose output is captured)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(message)
