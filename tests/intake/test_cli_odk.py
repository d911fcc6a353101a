import shutil

import typer
from typer.testing import CliRunner

from amanat.cli.odk import odk_app
from amanat.intake.odk_crypto import encrypt_submission

from .odk_fixtures import ODK, fresh_key

app = typer.Typer()
app.add_typer(odk_app, name="odk")
runner = CliRunner()


def _collect_folder(tmp_path):
    """A submission folder as Collect leaves it: submission.xml (the manifest) and the .enc files."""
    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copy(ODK / "encrypted-form-media-submission.xml", folder / "submission.xml")
    for name in ("1538040007350.jpg.enc", "1538040019351.jpg.enc", "submission.xml.enc"):
        shutil.copy(ODK / f"encrypted-form-media-{name}", folder / name)
    return folder


def test_decrypt_writes_xml_to_stdout_and_media_to_out(tmp_path) -> None:
    folder = _collect_folder(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["odk", "decrypt", "--key", str(ODK / "encrypted-form-media-key.pem"),
                                 str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "<name>My name</name>" in result.stdout
    expected = (ODK / "encrypted-form-media-media__1538040007350.jpg").read_bytes()
    assert (out / "1538040007350.jpg").read_bytes() == expected
    assert "signature valid" in result.stderr
    # A second run would overwrite plaintext files: refused unless --force.
    again = runner.invoke(app, ["odk", "decrypt", "--key", str(ODK / "encrypted-form-media-key.pem"),
                                str(folder), "--out", str(out)])
    assert again.exit_code == 1 and "already exist" in again.stderr


def test_decrypt_errors_are_one_line(tmp_path) -> None:
    folder = _collect_folder(tmp_path)
    (folder / "1538040019351.jpg.enc").unlink()
    result = runner.invoke(app, ["odk", "decrypt", "--key", str(ODK / "encrypted-form-media-key.pem"), str(folder)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: 1538040019351.jpg.enc: file named in the manifest is missing (intake_invalid)")
    private, _ = fresh_key()
    key = tmp_path / "other.pem"
    key.write_bytes(private)
    shutil.copy(ODK / "encrypted-form-media-1538040019351.jpg.enc", folder / "1538040019351.jpg.enc")
    result = runner.invoke(app, ["odk", "decrypt", "--key", str(key), str(folder)])
    assert result.exit_code == 1 and "base64EncryptedKey" in result.stderr


def test_decrypt_a_synthetic_submission_into_its_own_folder(tmp_path) -> None:
    private, public = fresh_key()
    manifest, files = encrypt_submission(b"<data id='f'><full_name>A</full_name></data>", {"a.jpg": b"\xff\xd8\xff"},
                                         public, form_id="f", instance_id="uuid:5")
    (tmp_path / "submission.xml").write_bytes(manifest)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "key.pem").write_bytes(private)
    result = runner.invoke(app, ["odk", "decrypt", "--key", str(tmp_path / "key.pem"), str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a.jpg").read_bytes() == b"\xff\xd8\xff"
