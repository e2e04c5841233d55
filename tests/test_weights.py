"""Model files: bit-identical round trip, and clear refusal of every kind of bad file."""

from __future__ import annotations

import functools
import json
import os
import pickle
import struct

import pytest
import torch
from safetensors.torch import save_file

from colouru.generator import GeneratorConfig, build_generator
from colouru.weights import (
    METADATA_KEY,
    ModelFileError,
    ModelInfo,
    input_spec,
    load_model,
    read_info,
    save_model,
)

CFG = GeneratorConfig(width=4, depth=3, max_width=16)


def _model(cfg: GeneratorConfig = CFG):
    model = build_generator(cfg)
    model.load_state_dict(_trained_state(cfg))
    return model.eval()


@functools.cache
def _trained_state(cfg: GeneratorConfig) -> dict:
    torch.manual_seed(0)
    model = build_generator(cfg)
    # Make the batch-norm statistics non-trivial, so they too must survive the round trip.
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 4, 32, 32))
    return model.state_dict()


def _state(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def _info_json(**changes) -> str:
    doc = json.loads(ModelInfo(CFG, work_size=64).to_json())
    doc.update(changes)
    return json.dumps(doc)


def _refused(path, match: str) -> str:
    with pytest.raises(ModelFileError, match=match) as e:
        load_model(path)
    msg = str(e.value)
    assert msg.startswith(str(path)) and "\n" not in msg
    return msg


# --- the round trip ------------------------------------------------------------------------
def test_round_trip_is_bit_identical(tmp_path):
    model = _model()
    info = ModelInfo(CFG, work_size=192, provenance={"steps": 1000, "data": "photos/"})
    path = save_model(tmp_path / "m.safetensors", model, info)
    loaded, info2 = load_model(path)
    assert not loaded.training
    assert info2.generator == CFG and info2.work_size == 192 and info2.provenance == info.provenance
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    x = torch.randn(2, 4, 37, 53)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]  # no temporary file left


def test_half_precision_files_are_half_the_size_and_load_the_rounded_weights(tmp_path):
    model = _model(GeneratorConfig(width=8, depth=3, max_width=32))
    info = ModelInfo(model.config, work_size=64)
    full = save_model(tmp_path / "full.safetensors", model, info)
    half = save_model(tmp_path / "half.safetensors", model, info, half=True)
    assert half.stat().st_size < 0.55 * full.stat().st_size
    loaded, _ = load_model(half)
    for k, v in model.state_dict().items():  # float32 again, each weight rounded once
        got = loaded.state_dict()[k]
        assert got.dtype == v.dtype and torch.equal(got, v.half().to(v.dtype) if
                                                     v.is_floating_point() else v), k
    x = torch.rand(2, 4, 40, 48) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=2e-3)
    with torch.no_grad():
        model.head.weight[0, 0, 0, 0] = 1e5  # beyond float16: refused, nothing written
    with pytest.raises(ValueError, match="float16's range"):
        save_model(tmp_path / "big.safetensors", model, info, half=True)
    assert not (tmp_path / "big.safetensors").exists()


def test_tensor_types_we_do_not_write_are_refused(tmp_path):
    state = {k: v.double() if v.is_floating_point() else v for k, v in _state(_model()).items()}
    p = tmp_path / "f64.safetensors"
    save_file(state, str(p), metadata={METADATA_KEY: _info_json()})
    msg = _refused(p, "tensors of a type model files do not use")
    assert "F64" in msg


def test_read_info_alone_and_the_stored_config(tmp_path):
    path = save_model(tmp_path / "m.safetensors", _model(), ModelInfo(CFG, work_size=64))
    assert read_info(path).generator == CFG
    # The file is plain safetensors: an 8-byte header length, then a JSON header that holds our
    # config (architecture, input layout and normalisation) as metadata. No pickle anywhere.
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    meta = json.loads(raw[8:8 + n])["__metadata__"]
    doc = json.loads(meta[METADATA_KEY])
    assert doc["format"] == "colouru-model" and doc["input"] == input_spec()
    assert doc["input"]["channels"] == ["L", "hint_a", "hint_b", "highpass"]


# --- refusals ---------------------------------------------------------------------------------
@pytest.fixture
def good_file(tmp_path):
    return save_model(tmp_path / "good.safetensors", _model(), ModelInfo(CFG, work_size=64))


def test_zero_bytes_and_random_bytes(tmp_path):
    p = tmp_path / "zero.safetensors"
    p.write_bytes(b"")
    _refused(p, "not a valid safetensors model file")
    p = tmp_path / "noise.safetensors"
    p.write_bytes(os.urandom(5000))
    _refused(p, "not a valid safetensors model file")


@pytest.mark.parametrize("keep", [4, 8, 100, 0.5, -100, -1])
def test_truncated_files(tmp_path, good_file, keep):
    data = good_file.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep if keep > 0 else len(data) + keep
    p = tmp_path / "cut.safetensors"
    p.write_bytes(data[:n])
    _refused(p, "not a valid safetensors model file|damaged or truncated")


def test_corrupt_header(tmp_path, good_file):
    data = bytearray(good_file.read_bytes())
    data[12] ^= 0xFF
    p = tmp_path / "flipped.safetensors"
    p.write_bytes(bytes(data))
    _refused(p, "not a valid safetensors model file")


def test_safetensors_without_our_metadata(tmp_path):
    p = tmp_path / "plain.safetensors"
    save_file(_state(_model()), str(p))
    _refused(p, "without a ColourU config")
    save_file(_state(_model()), str(p), metadata={"other": "thing"})
    _refused(p, "without a ColourU config")


@pytest.mark.parametrize("meta,match", [
    ("{not json", "bad ColourU config"),
    ("[1, 2]", "not a JSON object"),
    (_info_json(format="other-model"), "format is 'other-model'"),
    (_info_json(version=2), "version 2"),
    (_info_json(generator={"width": "4"}), "must be int"),
    (_info_json(generator={"width": 4, "colour": 1}), "unknown generator config keys"),
    (_info_json(generator={**CFG.to_dict(), "arch": "transformer"}),
     "unknown generator architecture 'transformer'"),
    (_info_json(work_size="big"), "work_size"),
    (_info_json(provenance=[1]), "provenance"),
    (_info_json(input={**input_spec(), "ab_norm": 128.0}), "different input layout"),
])
def test_bad_config(tmp_path, meta, match):
    p = tmp_path / "m.safetensors"
    save_file(_state(_model()), str(p), metadata={METADATA_KEY: meta})
    _refused(p, match)


def test_mismatched_architecture(tmp_path):
    p = tmp_path / "wider.safetensors"
    # The config says width 4, the weights are of a width-8 network.
    save_file(_state(_model(GeneratorConfig(width=8, depth=3, max_width=16))), str(p),
              metadata={METADATA_KEY: _info_json()})
    msg = _refused(p, "do not match the architecture")
    assert "wrong shape" in msg
    p = tmp_path / "deeper.safetensors"
    save_file(_state(_model(GeneratorConfig(width=4, depth=4, max_width=16))), str(p),
              metadata={METADATA_KEY: _info_json()})
    assert "unexpected" in _refused(p, "do not match the architecture")


def test_missing_tensor(tmp_path):
    state = _state(_model())
    del state["head.bias"]
    p = tmp_path / "m.safetensors"
    save_file(state, str(p), metadata={METADATA_KEY: _info_json()})
    assert "head.bias" in _refused(p, "missing")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights(tmp_path, value):
    state = _state(_model())
    state["downs.1.0.weight"][0, 0, 0, 0] = value
    p = tmp_path / "m.safetensors"
    save_file(state, str(p), metadata={METADATA_KEY: _info_json()})
    assert "downs.1.0.weight" in _refused(p, "NaN or infinite")


class _Trap:
    """Unpickling this object creates a file: proof that pickled code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_renamed_safetensors_is_never_unpickled(tmp_path):
    sentinel = tmp_path / "pickle-code-ran"
    p = tmp_path / "model.safetensors"
    p.write_bytes(pickle.dumps({"state": _Trap(sentinel)}))
    _refused(p, "not a valid safetensors model file")
    torch.save({"weights": _state(_model()), "trap": _Trap(sentinel)}, p)  # torch's zip format
    _refused(p, "not a valid safetensors model file")
    assert not sentinel.exists()


def test_missing_file_and_folder(tmp_path):
    _refused(tmp_path / "nope.safetensors", "no such model file")
    with pytest.raises(ModelFileError, match="no such model file"):
        read_info(tmp_path)


# --- the config is bounded and the shapes compared before anything is built -----------------
def _file_with_config(path, tensors=None, **generator) -> str:
    """A model file whose config says ``generator`` (over CFG) but holds ``tensors``."""
    doc = json.loads(ModelInfo(CFG, work_size=64).to_json())
    doc["generator"].update(generator)
    save_file(tensors if tensors is not None else _state(_model()), str(path),
              metadata={METADATA_KEY: json.dumps(doc)})
    return path


@pytest.fixture
def built_on(monkeypatch):
    """The device types of every generator that ``load_model`` builds."""
    import colouru.weights as weights

    devices = []

    def spy(config, *args, **kwargs):
        model = build_generator(config, *args, **kwargs)
        devices.append(next(model.parameters()).device.type)
        return model

    monkeypatch.setattr(weights, "build_generator", spy)
    return devices


@pytest.mark.parametrize("generator", [
    {"width": 10**9}, {"width": 4096}, {"width": 2048}, {"depth": 5000}, {"depth": 10**6},
    {"max_width": 10**12}, {"arch": "unet-semantic", "encoder": "efficientnet-lite0",
                            "width": 10**9},
])
def test_oversized_config_is_refused_before_building(tmp_path, built_on, generator):
    p = _file_with_config(tmp_path / "big.safetensors", **generator)
    (name, value), *_ = ((k, v) for k, v in generator.items() if isinstance(v, int))
    msg = _refused(p, "out of range")
    assert f"{name} {value}" in msg
    assert built_on == []


@pytest.mark.parametrize("generator", [
    {"width": 64}, {"depth": 9, "max_width": 512},
    {"arch": "unet-semantic", "encoder": "efficientnet-lite0", "width": 16, "depth": 5},
])
def test_shapes_are_compared_before_the_network_is_built(tmp_path, built_on, generator):
    # In range, but the tensors are those of CFG: refused from the header, nothing allocated.
    p = _file_with_config(tmp_path / "other.safetensors", **generator)
    _refused(p, "do not match the architecture")
    assert set(built_on) <= {"meta"}


def test_a_model_of_a_removed_architecture_is_named_in_one_line(tmp_path, built_on):
    p = _file_with_config(tmp_path / "old.safetensors", arch="unet-pretrained",
                          encoder="efficientnet-lite0", fine_width=8)
    msg = _refused(p, "'unet-pretrained' was removed")
    assert "docs/experiments.md" in msg
    assert built_on == []
    # the files of the shipped kinds saved with the removed option at 0 load as they were
    load_model(_file_with_config(tmp_path / "saved.safetensors", fine_width=0))


def test_the_good_file_is_built_once_for_real(good_file, built_on):
    load_model(good_file)
    assert built_on.count("cpu") == 1


@pytest.mark.parametrize("levels", [40, 100_000])
def test_deeply_nested_metadata(tmp_path, levels):
    doc = ModelInfo(CFG, work_size=64).to_json()
    nested = "[" * levels + "]" * levels
    p = tmp_path / "nested.safetensors"
    save_file(_state(_model()), str(p),
              metadata={METADATA_KEY: doc[:-1] + f', "provenance": {{"x": {nested}}}}}'})
    _refused(p, "bad ColourU config.*nested")
    with pytest.raises(ModelFileError, match="nested"):
        read_info(p)


@pytest.mark.parametrize("work_size", [0, 8, 10**6])
def test_work_size_is_bounded(tmp_path, work_size):
    p = tmp_path / "m.safetensors"
    save_file(_state(_model()), str(p), metadata={METADATA_KEY: _info_json(work_size=work_size)})
    _refused(p, "work_size")


def test_info_answers_a_bad_model_in_one_line(tmp_path, capsys):
    from colouru.cli import main

    p = _file_with_config(tmp_path / "big.safetensors", width=10**9)
    assert main(["info", "--model", str(p), "--device", "cpu"]) == 1
    out = capsys.readouterr().out
    bad = [line for line in out.splitlines() if line.startswith("model:")]
    assert len(bad) == 1 and "out of range" in bad[0] and "Traceback" not in out


def test_bundled_model_still_loads_bit_identically():
    from pathlib import Path

    from safetensors.torch import load_file

    path = Path(__file__).parents[1] / "assets" / "models" / "colouru-default.safetensors"
    model, _ = load_model(path)
    for k, v in load_file(str(path)).items():  # float16 widens to float32 exactly
        got = model.state_dict()[k]
        assert torch.equal(got, v.to(got.dtype)), k


def test_the_half_model_script_writes_a_new_file_and_never_replaces_one(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[1] / "scripts" / "half_model.py"
    src = save_model(tmp_path / "m.safetensors", _model(),
                     ModelInfo(CFG, work_size=64, provenance={"steps": 3}))
    out = tmp_path / "m16.safetensors"
    run = subprocess.run([sys.executable, str(script), str(src), str(out)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "largest change" in run.stdout
    info = read_info(out)
    assert info.provenance["steps"] == 3 and "rounded from m.safetensors" in info.provenance[
        "weights"]
    before = out.read_bytes()
    again = subprocess.run([sys.executable, str(script), str(src), str(out)],
                           capture_output=True, text=True, check=False)
    assert again.returncode == 1 and "not replacing" in again.stderr
    assert out.read_bytes() == before
