"""The payload codec: what Temporal stores is encrypted, keys rotate, mistakes are named."""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter, WorkflowSerializationContext
from temporalio.exceptions import ApplicationError
from typer.testing import CliRunner

from cli.dev import DevError, dev_codec_keys
from cli.main import app as cli_app
from dibao.codec import (
    COUNTY_METADATA,
    ENCODING,
    KEY_ID_METADATA,
    REFUSED_ENCODING,
    CodecKeyError,
    EncryptionCodec,
    county_of,
    data_converter,
    parse_keys,
    payloads_of_county,
)
from dibao.settings import Settings
from dibao.temporal_client import connect

OLD = "k2025:" + base64.b64encode(b"o" * 32).decode()
NEW = "k2026:" + base64.b64encode(b"n" * 32).decode()
HEAD = {"name": "王秀英", "id_number": "612522195803120027"}


def settings(**values: Any) -> Settings:
    # Not from .data/dev.env: a running `make dev` must not lend these tests its key.
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def no_keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIBAO_CODEC_KEYS", raising=False)
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)


async def encrypt(keys: str, value: Any) -> Payload:
    converter = data_converter(settings(codec_keys=keys))
    (payload,) = await converter.encode([value])
    return payload


async def decrypt(keys: str, payload: Payload) -> Any:
    converter = data_converter(settings(codec_keys=keys))
    (value,) = await converter.decode([payload], [dict])
    return value


async def test_round_trip_hides_the_name_and_id_number() -> None:
    payload = await encrypt(NEW, HEAD)
    assert payload.metadata["encoding"] == ENCODING
    assert payload.metadata[KEY_ID_METADATA] == b"k2026"
    stored = payload.SerializeToString()
    assert b"612522195803120027" not in stored
    assert "王秀英".encode() not in stored and b"\\u738b" not in stored
    assert await decrypt(NEW, payload) == HEAD


async def test_the_same_value_never_encrypts_the_same_way_twice() -> None:
    # A fresh nonce each time: equal ciphertexts would tell which cases share a household.
    first, second = await encrypt(NEW, HEAD), await encrypt(NEW, HEAD)
    assert first.data != second.data


async def test_rotation_old_histories_still_decode_new_data_uses_the_new_key() -> None:
    before_rotation = await encrypt(OLD, HEAD)
    rotated = f"{NEW},{OLD}"
    assert await decrypt(rotated, before_rotation) == HEAD
    after_rotation = await encrypt(rotated, HEAD)
    assert after_rotation.metadata[KEY_ID_METADATA] == b"k2026"
    assert await decrypt(rotated, after_rotation) == HEAD


async def test_an_unknown_key_id_is_named_in_the_error() -> None:
    payload = await encrypt(OLD, HEAD)
    with pytest.raises(CodecKeyError, match=r"key 'k2025'.*not in DIBAO_CODEC_KEYS.*k2026"):
        await decrypt(NEW, payload)


async def test_a_different_key_under_the_same_id_is_refused() -> None:
    payload = await encrypt(OLD, HEAD)
    impostor = "k2025:" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(CodecKeyError, match="does not decrypt"):
        await decrypt(impostor, payload)


async def test_unencrypted_payloads_are_refused_unless_plaintext_is_accepted() -> None:
    # Sent to Temporal without the codec (by anyone with access to the cluster): not read.
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"a":1}')
    (refused,) = await EncryptionCodec(parse_keys(NEW)).decode([plain])
    assert refused.metadata["encoding"] == REFUSED_ENCODING and b'"a"' not in refused.data
    with pytest.raises(KeyError, match="Unknown payload encoding dibao/refused-unencrypted"):
        await data_converter(settings(codec_keys=NEW)).decode([plain], [dict])
    # Histories written before encryption (and the saved replay histories) stay readable where
    # that is asked for.
    lenient = EncryptionCodec(parse_keys(NEW), accept_plain=True)
    assert await lenient.decode([plain]) == [plain]
    assert await data_converter(settings(codec_keys=NEW, codec_accept_plaintext=True)).decode(
        [plain], [dict]
    ) == [{"a": 1}]


def in_workflow(converter: DataConverter, workflow_id: str) -> DataConverter:
    return converter.with_context(WorkflowSerializationContext("default", workflow_id))


async def test_payloads_carry_their_county_in_clear_and_bound_to_the_ciphertext() -> None:
    converter = data_converter(settings(codec_keys=NEW))
    with payloads_of_county("610423"):
        (payload,) = await converter.encode([HEAD])
    assert county_of(payload) == "610423"
    assert b"612522195803120027" not in payload.SerializeToString()
    assert await converter.decode([payload], [dict]) == [HEAD]
    # Relabelled with another county, or stripped of the label, it no longer decrypts.
    codec = EncryptionCodec(parse_keys(NEW))
    for label in (b"610424", None):
        forged = Payload()
        forged.CopyFrom(payload)
        if label is None:
            del forged.metadata[COUNTY_METADATA]
        else:
            forged.metadata[COUNTY_METADATA] = label
        with pytest.raises(CodecKeyError, match="does not decrypt"):
            await codec.reveal([forged])


async def test_the_county_follows_the_workflow_where_the_encoder_is_not_told() -> None:
    converter = data_converter(settings(codec_keys=NEW))
    # In the workflow ID by construction: payrolls and standard changes.
    (payroll,) = await in_workflow(converter, "payroll-610423-2026-11").encode([HEAD])
    assert county_of(payroll) == "610423"
    # An opaque case ID: what the worker decoded first for the case (its input) decides.
    worker = in_workflow(converter, "DB-0123456789AB")
    with payloads_of_county("610424"):
        (case_input,) = await in_workflow(converter, "DB-0123456789AB").encode([HEAD])
    assert await worker.decode([case_input], [dict]) == [HEAD]
    (written,) = await worker.encode([{"stage": "survey"}])
    assert county_of(written) == "610424"
    # A payload made for another county is refused in this case, not learnt.
    with payloads_of_county("610423"):
        (foreign,) = await converter.encode([{"actor": "mallory"}])
    with pytest.raises(KeyError, match="Unknown payload encoding dibao/refused"):
        await worker.decode([foreign], [dict])
    (still,) = await worker.encode([{"stage": "survey"}])
    assert county_of(still) == "610424"
    # Nothing known: unlabelled, and still decrypted (histories from before the label).
    (unknown,) = await converter.encode([HEAD])
    assert county_of(unknown) is None and COUNTY_METADATA not in unknown.metadata
    assert await converter.decode([unknown], [dict]) == [HEAD]


async def test_failure_messages_are_encrypted_too() -> None:
    converter = data_converter(settings(codec_keys=NEW))
    failure = Failure()
    await converter.encode_failure(
        ApplicationError("身份证号 612522195803120027 已有在办案件", type="Duplicate"), failure
    )
    stored = failure.SerializeToString()
    assert b"612522195803120027" not in stored
    assert failure.message == "Encoded failure"
    decoded = await converter.decode_failure(failure)
    assert "612522195803120027" in str(decoded)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("k1:not*base64", "key 'k1' is not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "key 'k1' is 5 bytes; AES-256 needs 32"),
        (f"{NEW},{NEW}", "key ID 'k2026' appears twice"),
        ("just-a-key", "entry 1 is not id:base64key"),
        ("bad id:" + base64.b64encode(b"n" * 32).decode(), "key ID must be"),
        ("", "DIBAO_CODEC_KEYS is empty"),
    ],
)
def test_malformed_keys_are_rejected_with_a_clear_message(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(codec_keys=value)
    assert message in str(caught.value)
    # The rejected value is not echoed: it might be a real key with a typo.
    assert value == "" or value not in str(caught.value)


def test_malformed_keys_in_the_environment_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIBAO_CODEC_KEYS", "k1:???")
    with pytest.raises(ValidationError, match="DIBAO_CODEC_KEYS: key 'k1' is not valid base64"):
        settings()


async def test_without_keys_no_process_connects_to_an_external_temporal() -> None:
    external = settings(temporal_address="temporal.example.internal:7233")
    with pytest.raises(CodecKeyError, match="DIBAO_CODEC_KEYS is not set: refusing to connect"):
        await connect(external)


def test_keys_never_show_when_settings_are_printed() -> None:
    key = NEW.split(":", 1)[1]
    assert key not in repr(settings(codec_keys=NEW))


def test_new_key_prints_a_usable_key_with_a_fresh_id() -> None:
    runner = CliRunner()
    first = runner.invoke(cli_app, ["codec", "new-key"])
    second = runner.invoke(cli_app, ["codec", "new-key"])
    assert first.exit_code == 0, first.output
    ((key_id, key),) = parse_keys(first.output.strip())
    assert len(key) == 32
    assert second.output.strip().split(":")[0] != key_id
    # What ops do with it: put it first, keep the old key.
    assert settings(codec_keys=f"{first.output.strip()},{OLD}").codec_keys is not None


def test_make_dev_creates_one_private_key_and_keeps_it(tmp_path: Path) -> None:
    local = settings(data_dir=tmp_path)
    first = dev_codec_keys(local)
    key_file = tmp_path / "codec-keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert dev_codec_keys(local) == first  # the histories in .data need the same key next time
    assert len(parse_keys(first)) == 1


def test_make_dev_uses_given_keys_and_never_invents_one_for_an_external_cluster(
    tmp_path: Path,
) -> None:
    assert dev_codec_keys(settings(data_dir=tmp_path, codec_keys=NEW)) == NEW
    external = settings(data_dir=tmp_path, temporal_address="temporal.example.internal:7233")
    with pytest.raises(DevError, match="DIBAO_CODEC_KEYS is not"):
        dev_codec_keys(external)
    assert not (tmp_path / "codec-keys").exists()


async def test_a_case_started_before_the_label_is_labelled_from_its_input() -> None:
    converter = data_converter(settings(codec_keys=NEW))
    (legacy_input,) = await converter.encode(
        [{"case_id": "DB-OLD", "application": {"hukou": {"county_code": "610423"}}}]
    )
    assert county_of(legacy_input) is None
    worker = in_workflow(converter, "DB-OLD000000001")
    await worker.decode([legacy_input], [dict])
    (written,) = await worker.encode([{"stage": "survey"}])
    assert county_of(written) == "610423"
