"""An ODK Collect ``instances/`` folder copied off a phone by cable: one folder per submission.

Collect keeps each submission in a folder of its own: the instance XML (``submission.xml``, or named after its
folder, ``Service record_2024-05-01_10-00-00.xml``) and its media; an encrypted form leaves the manifest XML,
``submission.xml.enc`` and each photo as ``.enc`` instead. Every folder holding an instance XML is one instance,
at any depth (the phone's ``odk/`` folder, ``instances/`` itself, or one submission's folder all work); its other
files are its media. Nothing here opens an XML beyond telling which file it is: imports.plan_odk_instances seals
each exactly as the OpenRosa endpoint would, so the worker decrypts and parses it.

Symbolic links are not followed, and the folder's size is bounded by the import limits (the whole folder is
read into memory to be sealed).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from amanat.intake.errors import IntakeError
from amanat.intake.upload_limits import DEFAULT_LIMITS, UploadLimitExceeded, UploadLimits, check_count

Instance = tuple[str, bytes, list[tuple[str, bytes]]]
SUBMISSION_XML = "submission.xml"
_SKIPPED = {".nomedia", ".DS_Store", "Thumbs.db", "desktop.ini"}
_NOT_INSTANCES = {"forms", "metadata", "layers", "settings", ".cache", "__MACOSX"}  # the rest of a phone's odk/


def _instance_xml(folder: Path, files: list[str]) -> str | None:
    """The instance (or manifest) XML of a submission folder; None when the folder holds none."""
    xml = [f for f in files if f.lower().endswith(".xml")]
    if SUBMISSION_XML in xml:
        return SUBMISSION_XML
    if f"{folder.name}.xml" in xml:
        return f"{folder.name}.xml"
    if len(xml) == 1:
        return xml[0]
    if xml:
        raise IntakeError("several XML files and none is the instance (submission.xml or named after its folder)",
                          source=folder.name)
    return None


def read_instances_folder(folder: Path, *, limits: UploadLimits = DEFAULT_LIMITS,
                          progress: Callable[[int], None] | None = None) -> tuple[list[Instance], str, int]:
    """(instances in folder order, a SHA-256 over every file read, the bytes read). Each instance is
    ``(its XML's path below folder, the XML, [(media name, bytes)])``."""
    instances: list[Instance] = []
    digest = hashlib.sha256()
    size = files_read = 0
    if (folder / "instances").is_dir():  # the phone's whole odk/ folder: its forms are not submissions
        folder = folder / "instances"
    for here, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_INSTANCES and not (Path(here) / d).is_symlink())
        path = Path(here)
        files = sorted(n for n in names if n not in _SKIPPED and not n.startswith("._")
                       and (path / n).is_file() and not (path / n).is_symlink())
        xml_name = _instance_xml(path, files)
        if xml_name is None:
            continue
        relative = (path / xml_name).relative_to(folder).as_posix()
        contents: dict[str, bytes] = {}
        for name in files:
            data = (path / name).read_bytes()
            if len(data) > limits.max_file_bytes:
                raise UploadLimitExceeded(f"{name} is larger than the limit of {limits.max_file_bytes} bytes",
                                          source=relative)
            size += len(data)
            files_read += 1
            if size > limits.max_unpacked_bytes:
                raise UploadLimitExceeded(f"the folder holds more than the limit of {limits.max_unpacked_bytes} "
                                          "bytes (raise AMANAT_IMPORT_MAX_UNPACKED_BYTES, or import it in parts)",
                                          source=folder.name)
            digest.update(f"{(path / name).relative_to(folder).as_posix()}\n".encode())
            digest.update(hashlib.sha256(data).digest())
            contents[name] = data
        xml = contents.pop(xml_name)
        instances.append((relative, xml, sorted(contents.items())))
        check_count("instances", len(instances), limits.max_rows, folder.name)
        check_count("files", files_read, limits.max_attachments + len(instances), folder.name)
        if progress is not None:
            progress(len(instances))
    if not instances:
        raise IntakeError("no ODK instance in the folder (one folder per submission, each with its submission.xml, "
                          "or its manifest and submission.xml.enc, is expected)", source=folder.name)
    return instances, digest.hexdigest(), size


__all__ = ["Instance", "read_instances_folder"]
