"""The FuseSoC core (smmuv3.core): its RTL fileset is rtl/files.f in the same order, and its
lint (Verilator -Wall) and sim (Icarus elaborating the testbench wrapper) targets run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import sims

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "smmuv3.core"
VLNV = "open-sva:ip:smmuv3"


def test_rtl_fileset_is_files_f() -> None:
    files = [line.strip() for line in (ROOT / "rtl" / "files.f").read_text().splitlines()
             if line.strip() and not line.startswith("//")]
    core = yaml.safe_load(CORE.read_text())
    assert core["filesets"]["rtl"]["files"] == files
    assert core["targets"]["default"]["toplevel"] == "smmu_top"


@pytest.mark.rtl
@pytest.mark.parametrize(("target", "sim"), [("lint", "verilator"), ("sim", "icarus")])
def test_target_runs(target: str, sim: str, tmp_path: Path) -> None:
    if sim not in sims():
        pytest.skip(f"{sim} not in SIMS")
    # A cores root of its own (the core and the directories it names), and no user
    # configuration: FuseSoC walks every directory under the root, and the checkout's build
    # products and caches change while other tests run.
    lib = tmp_path / "lib"
    (lib / "tb").mkdir(parents=True)
    shutil.copy(CORE, lib / CORE.name)
    (lib / "rtl").symlink_to(ROOT / "rtl")
    (lib / "tb" / "hdl").symlink_to(ROOT / "tb" / "hdl")
    conf = tmp_path / "fusesoc.conf"
    conf.write_text("")
    bindir = Path(sys.executable).parent  # the venv's verilator shim
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    r = subprocess.run([sys.executable, "-m", "fusesoc.main", "--config", str(conf),
                        "--cores-root", str(lib), "run", "--build-root", str(tmp_path / "build"),
                        "--target", target, VLNV],
                       capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert r.returncode == 0, f"fusesoc {target}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
