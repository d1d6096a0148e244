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
