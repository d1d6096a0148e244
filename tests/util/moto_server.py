# moto's server with its gaps filled (see tests/util/moto.rs, which runs
# it with `python3 -c`, as bench/amazon-import.sh does):
#   python3 tests/util/moto_server.py -H 127.0.0.1 -p PORT
import os, sys
from moto.core.responses import ActionResult
from moto.ec2.models.amis import AmiBackend
from moto.ec2.responses.amis import AmisResponse

def register_image(self):
    self.error_on_dryrun()
    image = self.ec2_backend.register_image(self._get_param("Name"), self._get_param("Description", ""))
    for mapping in self._get_param("BlockDeviceMappings", []):
        snapshot_id = (mapping.get("Ebs") or {}).get("SnapshotId")
        if snapshot_id and mapping.get("DeviceName") == self._get_param("RootDeviceName", mapping.get("DeviceName")):
            own = image.ebs_snapshot
            image.ebs_snapshot = self.ec2_backend.get_snapshot(snapshot_id)
            image.root_device_name = mapping["DeviceName"]
            own.from_ami = None
            self.ec2_backend.delete_snapshot(own.id)
    for key, attribute in [("BootMode", "boot_mode"), ("Architecture", "architecture"), ("VirtualizationType", "virtualization_type")]:
        if self._get_param(key):
            setattr(image, attribute, self._get_param(key))
    if self._get_param("EnaSupport") is not None:
        image.ena_support = self._get_bool_param("EnaSupport")
    for spec in self._get_param("TagSpecifications", []):
        if spec.get("ResourceType") == "image":
            for tag in spec.get("Tags", []):
                image.add_tag(tag["Key"], tag["Value"])
    return ActionResult({"ImageId": image.id})

AmisResponse.register_image = register_image

import json
from moto.ebs.responses import EBSResponse
def numbered(original):
    def call(self):
        body = json.loads(original(self))
        for block in body.get("Blocks", []):
            block["BlockIndex"] = int(block["BlockIndex"])
        return json.dumps(body)
    return call
EBSResponse.list_snapshot_blocks = numbered(EBSResponse.list_snapshot_blocks)

from moto.ebs.models import EBSSnapshot
def with_real_block_size(original):
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.block_size = 524288
    return init
EBSSnapshot.__init__ = with_real_block_size(EBSSnapshot.__init__)

# VM Import. moto has no ImportImage at all: this answers that one call and
# its task API (DescribeImportImageTasks, CancelImportTask) as VM Import
# would, so that the real SDK over HTTP exercises bake's S3 route (amazon-
# import's multipart upload, ImportImage, polling, CopyImage, clean-up).
# The disk is read from moto's own S3, "converted" into an EBS snapshot
# whose blocks the EBS direct APIs read back, and registered as an AMI;
# everything else (S3, DeregisterImage, DeleteSnapshot, tags; CopyImage and
# S3's result names with the fixes below) is moto's own.
# Only raw disks are converted. Each DescribeImportImageTasks of a task by
# its id moves it one stage on, so that a poller sees it progress.
import base64, hashlib, math, re, threading
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.ec2.responses import EC2Response
from moto.ec2.utils import random_resource_id
from moto.ebs.models import ebs_backends

IMPORT_BLOCK = 524288
IMPORT_STAGES = [("2", "pending"), ("15", "validating"), ("40", "converting"), ("75", "preparing ami")]
import_tasks = {}  # (account, region) -> {task id: task}
import_lock = threading.Lock()

def import_error(code, message):
    return EC2ClientError(code, message)

def import_task_list(account, region):
    return import_tasks.setdefault((account, region), {})

def import_find_task(account, region, task_id):
    if not re.fullmatch(r"import-ami-[0-9a-f]{8,17}", task_id or ""):
        raise import_error("InvalidConversionTaskId.Malformed", f"The import task ID '{task_id}' is malformed.")
    task = import_task_list(account, region).get(task_id)
    if task is None:
        raise import_error("InvalidConversionTaskId", f"The import task ID '{task_id}' does not exist.")
    return task

def import_s3_object(account, region, bucket, key):
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition
    s3 = s3_backends[account][get_partition(region)]
    found = s3.buckets.get(bucket)
    if found is None:
        return None, f"The given S3 bucket '{bucket}' does not exist or is not accessible."
    if getattr(found, "region_name", region) != region:
        return None, f"The given S3 bucket '{bucket}' is not local to the region {region}."
    obj = s3.get_object(bucket, key)
    if obj is None:
        return None, f"The given S3 object s3://{bucket}/{key} does not exist or is not accessible."
    return obj, None

def import_read(obj, offset, length):
    # The object's buffer, a piece at a time (a disk can be large).
    with obj.lock:
        obj._value_buffer.seek(offset)
        return obj._value_buffer.read(length)

def import_image(self):
    self.error_on_dryrun()
    containers = self._get_param("DiskContainers", [])
    if not containers:
        raise import_error("MissingParameter", "The request must contain the parameter DiskContainer")
    if len(containers) > 1:
        raise import_error("InvalidParameter", "The emulator imports a single disk (one DiskContainer).")
    container = containers[0]
    if container.get("SnapshotId"):
        raise import_error("InvalidParameter", "The emulator imports from S3 only, not from a snapshot (DiskContainer.SnapshotId).")
    bucket_info = container.get("UserBucket") or {}
    bucket, key = bucket_info.get("S3Bucket"), bucket_info.get("S3Key")
    url = container.get("Url")
    if not (bucket and key) and url and url.startswith("s3://"):
        bucket, _, key = url[len("s3://"):].partition("/")
    if not (bucket and key):
        raise import_error("InvalidParameter", "DiskContainer needs UserBucket.S3Bucket and UserBucket.S3Key (or an s3:// Url).")
    disk_format = (container.get("Format") or "").lower()
    if not disk_format:
        extension = key.rsplit(".", 1)[-1].lower() if "." in key else ""
        disk_format = {"raw": "raw", "img": "raw", "vmdk": "vmdk", "vhd": "vhd", "vhdx": "vhdx", "ova": "ova"}.get(extension, "")
        if not disk_format:
            raise import_error("InvalidParameter", f"The disk format of s3://{bucket}/{key} is unknown: give DiskContainer.Format.")
    if disk_format in ("vmdk", "vhd", "vhdx", "ova"):
        raise import_error("InvalidParameter", f"Disk format {disk_format.upper()} is valid, but this emulator converts raw disks only (s3://{bucket}/{key}).")
    if disk_format != "raw":
        raise import_error("InvalidParameter", f"Unsupported disk format '{container.get('Format')}': valid values are OVA, VHD, VHDX, VMDK and RAW.")
    boot_mode = self._get_param("BootMode")
    if boot_mode == "uefi-preferred":
        raise import_error("InvalidParameter", "The uefi-preferred boot mode isn't supported for importing images.")
    if boot_mode not in (None, "legacy-bios", "uefi"):
        raise import_error("InvalidParameterValue", f"Value ({boot_mode}) for parameter BootMode is invalid.")
    encrypted = bool(self._get_bool_param("Encrypted", False))
    kms_key_id = self._get_param("KmsKeyId")
    if kms_key_id and not encrypted:
        raise import_error("InvalidParameterDependency", "The parameter [KmsKeyId] requires the parameter Encrypted to be set.")
    tags = []
    for spec in self._get_param("TagSpecifications", []):
        if spec.get("ResourceType") != "import-image-task":
            raise import_error("InvalidParameterValue", f"'{spec.get('ResourceType')}' is not a valid taggable resource type for this operation.")
        tags += [{"Key": t["Key"], "Value": t.get("Value", "")} for t in spec.get("Tags", [])]
    obj, problem = import_s3_object(self.current_account, self.region, bucket, key)
    if obj is None:
        raise import_error("InvalidParameter", problem)
    task = {
        "id": "import-ami-" + random_resource_id(17),
        "account": self.current_account,
        "region": self.region,
        "status": "active",
        "stage": 0,
        "message": IMPORT_STAGES[0][1],
        "bucket": bucket,
        "key": key,
        "size": None,
        "description": self._get_param("Description"),
        "disk_description": container.get("Description"),
        "device": container.get("DeviceName") or "/dev/sda1",
        "architecture": self._get_param("Architecture") or "x86_64",
        "boot_mode": boot_mode,
        "platform": self._get_param("Platform") or "Linux",
        "license_type": self._get_param("LicenseType") or "BYOL",
        "role_name": self._get_param("RoleName") or "vmimport",
        "encrypted": encrypted,
        "kms_key_id": kms_key_id,
        "tags": tags,
        "snapshot_id": None,
        "image_id": None,
    }
    with import_lock:
        import_task_list(self.current_account, self.region)[task["id"]] = task
    return ActionResult(import_task_view(task))

def import_task_view(task):
    """The task as ImportImage and DescribeImportImageTasks describe it."""
    active = task["status"] == "active"
    detail = {
        "Description": task["disk_description"],
        "DiskImageSize": float(task["size"] or 0),
        "Format": "RAW",
        "UserBucket": {"S3Bucket": task["bucket"], "S3Key": task["key"]},
        "Status": task["status"] if task["status"] != "deleting" else "deleted",
    }
    if task["status"] == "completed":
        detail["SnapshotId"] = task["snapshot_id"]
        detail["DeviceName"] = task["device"]
    view = {
        "ImportTaskId": task["id"],
        "Architecture": task["architecture"],
        "BootMode": task["boot_mode"],
        "Description": task["description"],
        "Encrypted": task["encrypted"],
        "KmsKeyId": task["kms_key_id"],
        "LicenseType": task["license_type"],
        "Platform": task["platform"],
        "Progress": IMPORT_STAGES[task["stage"]][0] if active else None,
        "Status": task["status"],
        "StatusMessage": task["message"] or None,
        "ImageId": task["image_id"],
        "SnapshotDetails": [detail],
        "Tags": task["tags"],
    }
    return view

def import_fail(task, message):
    import_discard(task)
    task["status"], task["message"] = "deleted", message

def import_discard(task):
    """Removes what the task made so far (its snapshot; its AMI)."""
    ec2 = ec2_backends[task["account"]][task["region"]]
    if task["image_id"] and task["image_id"] in ec2.amis:
        ec2.deregister_image(task["image_id"])
    if task["snapshot_id"]:
        ec2.snapshots.pop(task["snapshot_id"], None)
        ebs_backends[task["account"]][task["region"]].snapshots.pop(task["snapshot_id"], None)
    task["image_id"] = task["snapshot_id"] = None

def import_convert(task):
    """validating -> converting: the raw disk becomes an EBS snapshot."""
    obj, problem = import_s3_object(task["account"], task["region"], task["bucket"], task["key"])
    if obj is None:
        return import_fail(task, f"ClientError: Disk validation failed [{problem}]")
    size = obj.size
    task["size"] = size
    head = import_read(obj, 0, 1024)
    gpt, mbr = head[512:520] == b"EFI PART", head[510:512] == b"\x55\xaa"
    if not (gpt or mbr):
        return import_fail(task, "ClientError: Unknown OS / Missing OS files.")
    if not task["boot_mode"]:
        task["boot_mode"] = "uefi" if gpt else "legacy-bios"
    ec2 = ec2_backends[task["account"]][task["region"]]
    volume = ec2.create_volume(
        size=max(1, math.ceil(size / (1 << 30))),
        zone_name=f"{task['region']}a",
        encrypted=task["encrypted"],
        kms_key_id=task["kms_key_id"],
    )
    snapshot = ec2.create_snapshot(volume.id, f"Created by AWS-VMImport service for {task['id']}")
    snapshot.kms_key_id = volume.kms_key_id
    ec2.delete_volume(volume.id)
    if task["encrypted"]:
        task["kms_key_id"] = volume.kms_key_id
    ebs = EBSSnapshot(account_id=task["account"], snapshot=snapshot)
    zero = bytes(IMPORT_BLOCK)
    for index in range(math.ceil(size / IMPORT_BLOCK)):
        data = import_read(obj, index * IMPORT_BLOCK, IMPORT_BLOCK).ljust(IMPORT_BLOCK, b"\0")
        if data != zero:
            checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
            ebs.put_block(str(index), data, checksum, "SHA256", str(IMPORT_BLOCK))
    ebs.status = "completed"
    ebs_backends[task["account"]][task["region"]].snapshots[snapshot.id] = ebs
    task["snapshot_id"] = snapshot.id

def import_register(task):
    """preparing ami -> completed: the AMI, named after the task, on the snapshot."""
    ec2 = ec2_backends[task["account"]][task["region"]]
    image = ec2.register_image(task["id"], task["description"] or f"AWS-VMImport service: {task['id']}")
    own = image.ebs_snapshot
    snapshot = ec2.get_snapshot(task["snapshot_id"])
    image.ebs_snapshot = snapshot
    own.from_ami = None
    ec2.delete_snapshot(own.id)
    snapshot.from_ami = image.id
    image.root_device_name = task["device"]
    image.root_device_type = "ebs"
    image.architecture = task["architecture"]
    image.boot_mode = task["boot_mode"]
    image.virtualization_type = "hvm"
    image.platform = "windows" if task["platform"].lower() == "windows" else None
    task["image_id"] = image.id

def import_advance(task):
    if task["status"] == "deleting":
        task["status"] = "deleted"
        return
    if task["status"] != "active":
        return
    task["stage"] += 1
    if task["stage"] == 2:
        import_convert(task)
    if task["status"] != "active":
        return
    if task["stage"] < len(IMPORT_STAGES):
        task["message"] = IMPORT_STAGES[task["stage"]][1]
        return
    import_register(task)
    task["status"], task["message"] = "completed", None

def describe_import_image_tasks(self):
    self.error_on_dryrun()
    ids = self._get_param("ImportTaskIds", [])
    filters = self._filters_from_querystring()
    for name in filters:
        if name not in ("task-state", "tag-key") and not name.startswith("tag:"):
            raise import_error("InvalidParameterValue", f"The filter '{name}' is invalid.")
    with import_lock:
        # A look at a task by its id moves it on (a poller's); a listing
        # does not, so that whoever lists (bake cleanup, a test) changes
        # nothing.
        if ids:
            tasks = [import_find_task(self.current_account, self.region, task_id) for task_id in ids]
            for task in tasks:
                import_advance(task)
        else:
            tasks = list(import_task_list(self.current_account, self.region).values())
        views = [import_task_view(task) for task in tasks]

    def matches(view):
        tags = {t["Key"]: t["Value"] for t in view["Tags"]}
        for name, values in filters.items():
            if name == "task-state" and view["Status"] not in values:
                return False
            if name == "tag-key" and not any(v in tags for v in values):
                return False
            if name.startswith("tag:") and tags.get(name[4:]) not in values:
                return False
        return True

    return ActionResult({"ImportImageTasks": [v for v in views if matches(v)]})

def cancel_import_task(self):
    self.error_on_dryrun()
    task_id = self._get_param("ImportTaskId")
    with import_lock:
        task = import_find_task(self.current_account, self.region, task_id)
        if task["status"] != "active":
            raise import_error("IncorrectState", f"The import task '{task_id}' is {task['status']}: only an active task can be canceled.")
        import_discard(task)
        task["status"] = "deleting"
        task["message"] = self._get_param("CancelReason") or "User initiated task cancelation"
    return ActionResult({"ImportTaskId": task_id, "PreviousState": "active", "State": "deleting"})

EC2Response.import_image = import_image
EC2Response.describe_import_image_tasks = describe_import_image_tasks
EC2Response.cancel_import_task = cancel_import_task

# CopyImage copies the data, as AWS does: the copy's root snapshot carries
# the source's EBS blocks (and its size and encryption), and the copy keeps
# the source's boot mode, root device and ENA support.
def copying_data(original):
    def copy_image(self, source_image_id, source_region, *args, **kwargs):
        image = original(self, source_image_id, source_region, *args, **kwargs)
        source = ec2_backends[self.account_id][source_region].amis.get(source_image_id)
        if source is None:
            return image
        for attribute in ["boot_mode", "root_device_name", "root_device_type", "ena_support"]:
            if hasattr(source, attribute):
                setattr(image, attribute, getattr(source, attribute))
        blocks = ebs_backends[self.account_id][source_region].snapshots.get(source.ebs_snapshot.id)
        if blocks is not None:
            snapshot = image.ebs_snapshot
            snapshot.volume = source.ebs_snapshot.volume
            snapshot.encrypted, snapshot.kms_key_id = source.ebs_snapshot.encrypted, source.ebs_snapshot.kms_key_id
            copy = EBSSnapshot(account_id=self.account_id, snapshot=snapshot)
            for index, block in blocks.blocks.items():
                copy.put_block(index, block.block_data, block.checksum, block.checksum_algorithm, block.data_length)
            copy.status = "completed"
            ebs_backends[self.account_id][self.region_name].snapshots[snapshot.id] = copy
        return image
    return copy_image
AmiBackend.copy_image = copying_data(AmiBackend.copy_image)

# moto's S3 answers under a root named after the operation
# (CompleteMultipartUploadResponse); S3 names it after the result
# (CompleteMultipartUploadResult), and the Rust SDK checks.
from moto.core.serialize import S3Serializer
S3_ROOTS = {"CompleteMultipartUpload": "CompleteMultipartUploadResult", "CreateMultipartUpload": "InitiateMultipartUploadResult",
            "ListMultipartUploads": "ListMultipartUploadsResult", "ListObjectsV2": "ListBucketResult"}
s3_result = S3Serializer._serialized_result_to_response
def s3_named_result(self, resp, result, shape, serialized_result):
    resp = s3_result(self, resp, result, shape, serialized_result)
    operation, root = self.operation_model.name, S3_ROOTS.get(self.operation_model.name)
    if root and isinstance(resp.get("body"), str):
        resp["body"] = resp["body"].replace(f"<{operation}Response", f"<{root}", 1).replace(f"</{operation}Response>", f"</{root}>", 1)
    return resp
S3Serializer._serialized_result_to_response = s3_named_result

hold = os.environ.get("HOLD_IMAGES")
if hold:
    def held(original):
        def call(self, *args, **kwargs):
            ami = original(self, *args, **kwargs)
            ami.state = "pending"
            return ami
        return call
    if hold == "all":
        AmiBackend.create_image = held(AmiBackend.create_image)
    AmiBackend.copy_image = held(AmiBackend.copy_image)
from moto.server import main
main(sys.argv[1:])
