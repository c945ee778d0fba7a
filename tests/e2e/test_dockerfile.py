"""The Dockerfile, checked without a Docker engine.

The first tests read the Dockerfile and check that what it names exists: the base
image, the files it copies, the dependency layer before the source, the entrypoint
script (run here with a stub ``mock-puresms`` to check how it routes arguments), the
CLI subcommand of its health check, the settings its environment variables set.

The slow test then reproduces the image on this machine: the files the Dockerfile
copies go into a fresh folder, its RUN steps run (the requirements are extracted from
pyproject.toml; the package is installed into a fresh virtualenv), the source folder is
removed as the image removes it, and the entrypoint runs with an extra flag, as
``docker run IMAGE --scenario realistic`` would run it, until the health check command
exits 0.

Two shortcuts keep it fast and offline but for the package registry (the build backend
is fetched as in the image): the virtualenv is made without pip (the running pip
installs into it with ``--python``), and the dependencies are not installed from the
extracted requirements (the test checks they are pyproject's): they are taken from the
environment running the tests, through a ``.pth`` file naming its site-packages.
(``venv --system-site-packages`` would expose the base interpreter's packages, not this
environment's, where the dependencies are.) The package itself is installed from the
copied files, and the test checks that it is that copy which runs.
"""

from __future__ import annotations

import argparse
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
ENTRYPOINT_SCRIPT = ROOT / "docker-entrypoint.sh"


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


def _dependencies() -> list[str]:
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def _index(instructions: list[Instruction], found: str, keyword: str = "RUN") -> int:
    return next(n for n, i in enumerate(instructions) if i.keyword == keyword and found in i.args)


def test_dependencies_are_installed_in_a_layer_before_the_source_is_copied(
    instructions: list[Instruction],
) -> None:
    first_copy = _index(instructions, "", "COPY")
    dependencies = _index(instructions, "pip install --no-cache-dir -r")
    source = _index(instructions, "mock_puresms", "COPY")
    package = _index(instructions, "--no-deps")
    assert instructions[first_copy].args.split() == ["pyproject.toml", "./"]
    assert first_copy < dependencies < source < package
    # Nothing the code changes reaches the dependency layer.
    between = instructions[first_copy + 1 : dependencies + 1]
    assert all(i.keyword == "RUN" and "mock_puresms" not in i.args for i in between)


def test_the_dependency_step_extracts_exactly_the_pyproject_dependencies(
    instructions: list[Instruction], tmp_path: Path
) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    run = instructions[_index(instructions, "pip install --no-cache-dir -r")]
    _run_steps(run, tmp_path, tmp_path, venv=None)
    assert (tmp_path / "requirements.txt").read_text().splitlines() == _dependencies()


def test_only_what_runs_is_installed() -> None:
    names = [dependency.split(";")[0].split(">")[0].split("=")[0] for dependency in _dependencies()]
    # uvicorn[standard] would add watchfiles (--reload) and websockets: never used.
    assert "uvicorn" in names and not any("[" in name for name in names)
    assert {"uvloop", "httptools"} <= set(names)  # uvicorn picks them up when installed


def test_the_entrypoint_is_the_shipped_executable_script(instructions: list[Instruction]) -> None:
    entrypoint = only(instructions, "ENTRYPOINT").exec_form()
    assert entrypoint == [ENTRYPOINT_SCRIPT.name]
    copied = [i.args.split() for i in instructions if i.keyword == "COPY"]
    assert [ENTRYPOINT_SCRIPT.name, "/usr/local/bin/"] in copied  # on the image's PATH
    assert os.access(ENTRYPOINT_SCRIPT, os.X_OK), "docker-entrypoint.sh must be executable"
    assert ENTRYPOINT_SCRIPT.read_text().startswith("#!/bin/sh\n")
    assert only(instructions, "CMD").exec_form() == ["serve"]


def _route(args: list[str], tmp_path: Path) -> list[str]:
    """What the entrypoint script runs for ``docker run IMAGE ARGS``, with a stub
    ``mock-puresms`` first on PATH that prints the arguments it was given."""
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    stub = stubs / "mock-puresms"
    stub.write_text('#!/bin/sh\nfor arg in "mock-puresms" "$@"; do printf \'%s\\n\' "$arg"; done\n')
    stub.chmod(0o755)
    result = subprocess.run(
        [str(ENTRYPOINT_SCRIPT), *args],
        env={"PATH": f"{stubs}{os.pathsep}/usr/bin{os.pathsep}/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "runs"),
    [
        ([], ["mock-puresms", "serve"]),
        (["serve"], ["mock-puresms", "serve"]),
        (["--port", "9000"], ["mock-puresms", "serve", "--port", "9000"]),
        (["--scenario", "realistic"], ["mock-puresms", "serve", "--scenario", "realistic"]),
        (["--admin-token", "two words"], ["mock-puresms", "serve", "--admin-token", "two words"]),
        (["--version"], ["mock-puresms", "--version"]),
        (["--help"], ["mock-puresms", "--help"]),
        (
            ["scenarios", "validate", "/s/x.yaml"],
            ["mock-puresms", "scenarios", "validate", "/s/x.yaml"],
        ),
        (["config", "validate", "/c.yaml"], ["mock-puresms", "config", "validate", "/c.yaml"]),
        (["openapi"], ["mock-puresms", "openapi"]),
        (["health", "--wait", "5"], ["mock-puresms", "health", "--wait", "5"]),
        # A typo goes to mock-puresms, which lists the subcommands.
        (["sevre"], ["mock-puresms", "sevre"]),
    ],
)
def test_the_entrypoint_serves_by_default_and_passes_subcommands_through(
    tmp_path: Path, args: list[str], runs: list[str]
) -> None:
    assert _route(args, tmp_path) == runs
    if runs[1:2] != ["sevre"] and "--help" not in runs and "--version" not in runs:
        build_parser().parse_args(runs[1:])  # what it runs is a valid command line


def test_the_entrypoint_runs_other_programs_of_the_image(tmp_path: Path) -> None:
    assert _route(["sh", "-c", "echo from sh"], tmp_path) == ["from sh"]


def test_the_entrypoint_knows_every_subcommand() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    case = next(
        line for line in ENTRYPOINT_SCRIPT.read_text().splitlines() if "serve | scenarios" in line
    )
    routed = {word.strip() for word in case.split(")")[0].split("|")}
    assert routed == set(subparsers.choices)


def test_the_healthcheck_is_a_real_cli_subcommand(instructions: list[Instruction]) -> None:
    command = healthcheck_command(only(instructions, "HEALTHCHECK"))
    assert command == [console_script(), "health"]
    # No --host or --port: it reads MOCK_PURESMS_HOST and MOCK_PURESMS_PORT, as serve does.
    assert build_parser().parse_args(command[1:]).command == "health"


# --------------------------------------------------------------------------- reproducing


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _build(instructions: list[Instruction], root: Path, venv: Path) -> None:
    """Carry out WORKDIR, COPY and the RUN steps before USER into ``root`` (standing for
    the image's /), installing into ``venv``."""
    workdir = PurePosixPath("/")
    patterns = dockerignore_patterns()
    for instruction in instructions:
        if instruction.keyword == "USER":
            return
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
        elif instruction.keyword == "RUN" and "useradd" not in instruction.args:
            _run_steps(instruction, root / workdir.relative_to("/"), root, venv)
    raise AssertionError("no USER in the Dockerfile")


def _run_steps(run: Instruction, workdir: Path, root: Path, venv: Path | None) -> None:
    """The commands of one RUN: extracting the requirements, installing (the package only,
    into ``venv``, skipped when None), removing the source folder."""
    for command in run.args.split("&&"):
        argv = shlex.split(command)
        if argv[:2] == ["python", "-c"] and argv[3:4] == [">"]:
            output = subprocess.run(
                [sys.executable, "-c", argv[2]],
                cwd=workdir,
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout
            (workdir / argv[4]).write_text(output)
        elif argv[:2] == ["pip", "install"] and "-r" in argv:
            # The dependencies come from the test environment; the list must be pyproject's.
            requirements = workdir / argv[argv.index("-r") + 1]
            assert requirements.read_text().splitlines() == _dependencies()
        elif argv[:2] == ["pip", "install"] and "--no-deps" in argv:
            if venv is None:
                continue
            pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
            result = subprocess.run(
                [*pip, "install", "--quiet", *argv[2:]],
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


def _run_env(instructions: list[Instruction], root: Path, venv: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_PURESMS_")}
    env.pop("PYTHONPATH", None)
    env.update(env_of(instructions))
    env["PATH"] = os.pathsep.join(
        [str(venv / "bin"), str(root / "usr" / "local" / "bin"), env.get("PATH", "")]
    )
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
    _build(instructions, root, venv)
    assert not (root / "src").exists(), "the image removes its source folder"

    port = _free_port()
    env = _run_env(instructions, root, venv, port)
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
    healthcheck = healthcheck_command(only(instructions, "HEALTHCHECK"))
    # The extra flag replaces CMD, as `docker run IMAGE --scenario realistic` does.
    argv = [*entrypoint, "--scenario", "realistic"]
    # Listen on loopback only: the image's 0.0.0.0 is for a container's network. The
    # health check keeps the image's environment, so it maps 0.0.0.0 to loopback itself.
    server_env = {**env, "MOCK_PURESMS_HOST": "127.0.0.1"}
    workdir = root / "data"
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [shutil.which(argv[0], path=env["PATH"]) or argv[0], *argv[1:]],
        env=server_env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
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
