"""`shequn classify` end to end: plain lines and JSON lines in, one JSON object a line out."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def classify(tmp_path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHEQUN_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "shequn", "classify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_each_line_gets_its_labels_and_reasons(tmp_path):
    lines = [
        "新版本又闪退了！！能不能修一下？",
        json.dumps({"text": "[红包]恭喜发财，大吉大利", "keywords": ["跑步", "配速"]}),
        "Day 12 done 💪",
        "大家好，我是张伟，来自杭州，在阿里做产品经理，希望和大家交流",
        "Does anyone know how to export the data",
    ]
    done = classify(tmp_path, "\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["text"] for o in out][2:] == [
        "Day 12 done 💪",
        "大家好，我是张伟，来自杭州，在阿里做产品经理，希望和大家交流",
        "Does anyone know how to export the data",
    ]
    assert out[0]["question"] is not None and out[0]["feedback"]["label"] == "defect"
    assert out[0]["feedback"]["reason_zh"] and out[0]["feedback"]["reason_en"]
    assert out[1]["offtopic"]["label"] == "red_packet" and out[1]["theme"]["label"] == "off_theme"
    assert out[2]["checkin"]["day"] == 12 and out[2]["question"] is None
    assert out[3]["self_intro"]["fields"]["city"] == "杭州"
    assert out[4]["question"] is not None and out[4]["feedback"] is None


def test_a_bad_json_line_names_the_line_and_field(tmp_path):
    done = classify(tmp_path, 'ok\n{"txt": 1}\n')
    assert done.returncode == 2
    assert "line 2" in done.stderr and "'text'" in done.stderr


def test_an_unknown_group_is_named(tmp_path):
    done = classify(tmp_path, "hi\n", "--group", "no-such-group")
    assert done.returncode == 1 and "no-such-group" in done.stderr
