"""The Dockerfile, checked without a Docker engine.

The first tests read the Dockerfile and check that what it names exists: the base
image, the files it copies, the console script of its entrypoint, the CLI subcommand
of its health check, the settings its environment variables set.

The slow test then reproduces the image on this machine: the files the Dockerfile
copies go into a fresh folder, its ``pip install`` command installs them into a fresh
virtualenv, the source folder is removed as the image removes it, and the entrypoint
runs with an extra flag, as ``docker run IMAGE --scenario realistic`` would run it,
until the health check command exits 0.

Two shortcuts keep it fast and offline but for the package registry (the build backend
is fetched as in the image): the virtualenv is made without pip (the running pip
installs into it with ``--python``), and the install gets ``--no-deps``: the
dependencies are taken from the environment running the tests, through a ``.pth`` file
naming its site-packages. (``venv --system-site-packages`` would expose the base
interpreter's packages, not this environment's, where the dependencies are.) The package
itself is installed from the copied files, and the test checks that it is that copy
which runs.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import site
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest

from mock_puresms.cli import build_parser
from mock_puresms.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str]:
        """The JSON (exec) form of the arguments; fails when they are in shell form."""
        value = json.loads(self.args)
        assert isinstance(value, list), f"line {self.line}: {self.keyword} is not a JSON list"
        return [str(item) for item in value]


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
    assert not pending, "the Dockerfile ends inside a continuation line"
    return instructions


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.args):
                key, sep, value = pair.partition("=")
                assert sep, f"line {instruction.line}: use ENV KEY=VALUE"
                env[key] = value
    return env


def only(instructions: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in instructions if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def healthcheck_command(instruction: Instruction) -> list[str]:
    options, _, command = instruction.args.partition("CMD ")
    assert command, "HEALTHCHECK needs a CMD"
    for option in options.split():
        assert option.split("=")[0] in (
            "--interval",
            "--timeout",
            "--start-period",
            "--start-interval",
            "--retries",
        ), option
    return json.loads(command)  # type: ignore[no-any-return]


def dockerignore_patterns() -> list[str]:
    path = ROOT / ".dockerignore"
    lines = path.read_text().splitlines() if path.exists() else []
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    return any(
        fnmatch(relative, pattern) or fnmatch(relative, pattern.removeprefix("**/"))
        for pattern in patterns
    )


def console_script() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    scripts = pyproject["project"]["scripts"]
    assert len(scripts) == 1
    return str(next(iter(scripts)))


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


# --------------------------------------------------------------------------- reading


def test_the_image_is_built_on_python_3_11_slim(instructions: list[Instruction]) -> None:
    assert only(instructions, "FROM").args == "python:3.11-slim"


def test_every_copied_path_exists_and_is_not_dockerignored(
    instructions: list[Instruction],
) -> None:
    patterns = dockerignore_patterns()
    copies = [i for i in instructions if i.keyword == "COPY"]
    assert copies
    for instruction in copies:
        *sources, _destination = instruction.args.split()
        for source in sources:
            assert not source.startswith("--"), f"line {instruction.line}: no COPY options"
            assert (ROOT / source).exists(), f"line {instruction.line}: {source} is missing"
            assert not ignored(source, patterns), f"{source} is excluded by .dockerignore"


def test_the_scenarios_ship_inside_the_copied_package(instructions: list[Instruction]) -> None:
    copied = {source for i in instructions if i.keyword == "COPY" for source in i.args.split()[:-1]}
    assert "mock_puresms" in copied
    shipped = sorted(p.stem for p in (ROOT / "mock_puresms" / "scenarios").glob("*.yaml"))
    assert {"default", "realistic", "failures", "slow", "replies"} <= set(shipped)


def test_it_runs_as_a_non_root_user_after_installing(instructions: list[Instruction]) -> None:
    keywords = [i.keyword for i in instructions]
    user = only(instructions, "USER").args
    assert user not in ("root", "0") and not user.startswith("0:")
    install = next(n for n, i in enumerate(instructions) if "pip install" in i.args)
    assert install < keywords.index("USER") < keywords.index("ENTRYPOINT")


def test_it_exposes_8080_and_serves_there_by_default(instructions: list[Instruction]) -> None:
    assert only(instructions, "EXPOSE").args == "8080"
    env = env_of(instructions)
    assert env["MOCK_PURESMS_PORT"] == "8080"
    assert env["MOCK_PURESMS_HOST"] == "0.0.0.0"


def test_data_is_the_volume_and_the_users_home(instructions: list[Instruction]) -> None:
    assert only(instructions, "VOLUME").args == "/data"
    assert [i.args for i in instructions if i.keyword == "WORKDIR"][-1] == "/data"


def test_every_mock_puresms_variable_is_a_setting(instructions: list[Instruction]) -> None:
    fields = {f"MOCK_PURESMS_{name.upper()}" for name in Settings.model_fields}
    ours = {key for key in env_of(instructions) if key.startswith("MOCK_PURESMS_")}
    assert ours and ours <= fields, ours - fields


def test_the_entrypoint_is_the_console_script_serving_and_takes_extra_flags(
    instructions: list[Instruction],
) -> None:
    entrypoint = only(instructions, "ENTRYPOINT").exec_form()
    assert entrypoint[0] == console_script()
    assert only(instructions, "CMD").exec_form() == []
    args = build_parser().parse_args([*entrypoint[1:], "--scenario", "realistic"])
    assert (args.command, args.scenario) == ("serve", "realistic")
    # No --host or --port flag: flags win over MOCK_PURESMS_*, so the environment
    # variables (and the health check reading them) could not change them.
    assert "--port" not in entrypoint and "--host" not in entrypoint


def test_the_healthcheck_is_a_real_cli_subcommand(instructions: list[Instruction]) -> None:
    command = healthcheck_command(only(instructions, "HEALTHCHECK"))
    assert command[0] == console_script()
    assert build_parser().parse_args(command[1:]).command == "health"


# --------------------------------------------------------------------------- reproducing


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _copy_context(instructions: list[Instruction], root: Path) -> Path:
    """Carry out WORKDIR and COPY into ``root`` (standing for the image's /); returns
    the working directory of the install step."""
    workdir = PurePosixPath("/")
    patterns = dockerignore_patterns()
    for instruction in instructions:
        if instruction.keyword == "WORKDIR":
            workdir = workdir / instruction.args
            (root / workdir.relative_to("/")).mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            *sources, destination = instruction.args.split()
            target = root / (workdir / destination).relative_to("/")
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(
                        origin,
                        target / origin.name if destination.endswith("/") else target,
                        ignore=lambda folder, names: [
                            n for n in names if ignored(n, patterns) or n == "__pycache__"
                        ],
                        dirs_exist_ok=True,
                    )
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target / origin.name)
        elif instruction.keyword == "RUN" and "pip install" in instruction.args:
            return root / workdir.relative_to("/")
    raise AssertionError("no RUN pip install in the Dockerfile")


def _install(instructions: list[Instruction], root: Path, venv: Path) -> None:
    """Carry out the install RUN: its ``pip install`` (with ``--no-deps``) and ``rm``."""
    workdir = _copy_context(instructions, root)
    run = next(i for i in instructions if i.keyword == "RUN" and "pip install" in i.args)
    for command in run.args.split("&&"):
        argv = shlex.split(command)
        if argv[:2] == ["pip", "install"]:
            pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
            result = subprocess.run(
                [*pip, "install", "--no-deps", "--quiet", *argv[2:]],
                cwd=workdir,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stdout + result.stderr
        elif argv[:2] == ["rm", "-rf"]:
            for path in argv[2:]:
                shutil.rmtree(root / PurePosixPath(path).relative_to("/"))
        else:
            raise AssertionError(f"line {run.line}: cannot reproduce {command.strip()!r}")


def _run_env(instructions: list[Instruction], venv: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_PURESMS_")}
    env.pop("PYTHONPATH", None)
    env.update(env_of(instructions))
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["MOCK_PURESMS_PORT"] = str(port)  # as docker run -e would; 8080 may be taken here
    return env


def _health(command: list[str], venv: Path, env: dict[str, str]) -> int:
    argv = [str(venv / "bin" / command[0]), *command[1:]]
    return subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode


@pytest.mark.slow
def test_the_image_steps_install_serve_with_extra_flags_and_pass_the_healthcheck(
    instructions: list[Instruction], tmp_path: Path
) -> None:
    root, venv = tmp_path / "image", tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    (site_packages / "_test_dependencies.pth").write_text("\n".join(site.getsitepackages()))
    _install(instructions, root, venv)
    assert not (root / "src").exists(), "the image removes its source folder"

    port = _free_port()
    env = _run_env(instructions, venv, port)
    located = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import mock_puresms; print(mock_puresms.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(located).is_relative_to(site_packages), located

    entrypoint = only(instructions, "ENTRYPOINT").exec_form()
    command = only(instructions, "CMD").exec_form()
    healthcheck = healthcheck_command(only(instructions, "HEALTHCHECK"))
    argv = [str(venv / "bin" / entrypoint[0]), *entrypoint[1:], *command]
    # The extra flag, as `docker run IMAGE --scenario realistic` passes it.
    argv += ["--scenario", "realistic"]
    # Listen on loopback only: the image's 0.0.0.0 is for a container's network. The
    # health check keeps the image's environment, so it maps 0.0.0.0 to loopback itself.
    server_env = {**env, "MOCK_PURESMS_HOST": "127.0.0.1"}
    workdir = root / "data"
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        argv, env=server_env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while _health(healthcheck, venv, env) != 0:
            assert process.poll() is None, process.communicate()[0].decode()
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/_mock/scenario"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert json.load(response)["name"] == "realistic"
    finally:
        process.send_signal(signal.SIGTERM)  # what `docker stop` sends
        output = process.communicate(timeout=30)[0].decode()
    # uvicorn shuts down gracefully, then re-raises the signal (exit status 143 in Docker).
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert _health(healthcheck, venv, env) == 1
