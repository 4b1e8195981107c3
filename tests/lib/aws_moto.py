"""A moto server on 127.0.0.1 for the AWS checks, and the eco2 dev environment as the AWS side sees it.

`MotoServer` starts `moto_server` on a free loopback port as a child process and stops it by its PID.
`seed_eco2` creates what Terraform, the AWS Load Balancer Controller and ExternalDNS would have made for
inventory/dev: a VPC with one subnet per AZ, one EC2 instance per inventory host (Name tag = hostname,
private IP from the inventory), the ALB of the bridge Ingress (controller tags, HTTPS 443 listener with the
certificate, an instance target group with every node registered), the hosted zone with alias A and
ExternalDNS TXT records, and an imported ACM certificate for *.<zone> and <zone>.
"""
from __future__ import annotations

import datetime
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.lib.ansible_run import REPO, VENV_BIN
from tests.lib.ports import free_port

REGION = "ap-northeast-2"
FAKE_ACCESS_KEY = "AKIAMOTOTESTINGKEY01"
# Distinctive so a test can prove it never shows up in any output.
FAKE_SECRET_KEY = "moto-fake-secret-5b8e0c1d9a7f4e23-never-print"
SUBNETS = {"10.0.1.": ("10.0.1.0/24", "ap-northeast-2a"), "10.0.2.": ("10.0.2.0/24", "ap-northeast-2b"),
           "10.0.3.": ("10.0.3.0/24", "ap-northeast-2c")}
STACK = "ecoeco-main"
CLUSTER = "eco2-dev"
OWNER = "eco2-dev"
INGRESS = "istio-system/istio-ingress"


def aws_env(endpoint_url: str | None = None) -> dict:
    """Environment for boto3 and ansible-playbook: fake credentials, no shared files, no instance metadata."""
    env = {
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


class MotoServer:
    """moto_server on 127.0.0.1:<free port>; `stop()` ends it by PID."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(log_dir) / "moto.log"
        env = dict(os.environ, **aws_env())
        env.pop("AWS_ENDPOINT_URL", None)
        env["MOTO_ACM_VALIDATION_WAIT"] = "100000"  # requested certificates stay PENDING_VALIDATION
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                         stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto_server did not answer within 30s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def reset(self) -> None:
        req = urllib.request.Request(self.url + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def client(self, service: str):
        import boto3
        return boto3.client(service, region_name=REGION, endpoint_url=self.url, aws_access_key_id=FAKE_ACCESS_KEY,
                            aws_secret_access_key=FAKE_SECRET_KEY)


def inventory_hosts(inventory: str = "inventory/dev/hosts") -> dict:
    """hostname -> private_ip from a rendered INI inventory."""
    hosts = {}
    for line in (REPO / inventory).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "[")) or "private_ip=" not in line:
            continue
        name, *pairs = line.split()
        values = dict(p.split("=", 1) for p in pairs if "=" in p)
        hosts[name] = values["private_ip"]
    return hosts


def make_certificate(names: list[str], days: int = 365):
    """A self-signed certificate (PEM cert, PEM key) for names, valid for `days` from now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()))


def import_certificate(moto: MotoServer, names: list[str], days: int = 365) -> str:
    cert, key = make_certificate(names, days)
    return moto.client("acm").import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]


def txt_value(owner: str = OWNER, resource: str = "ingress/" + INGRESS) -> str:
    return f'"heritage=external-dns,external-dns/owner={owner},external-dns/resource={resource}"'


def seed_eco2(moto: MotoServer, zone: str = "dev.growbin.app", hosts: list[str] | None = None,
              inventory: str = "inventory/dev/hosts") -> dict:
    """Create the dev environment's AWS side; returns the ids/names the tests need."""
    ec2, elbv2, r53 = moto.client("ec2"), moto.client("elbv2"), moto.client("route53")
    hosts = hosts or [f"api.{zone}", f"argocd.{zone}", f"grafana.{zone}"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = {}
    for prefix, (cidr, az) in SUBNETS.items():
        subnets[prefix] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="eco2-nodes", Description="nodes", VpcId=vpc)["GroupId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instances = {}
    for name, ip in inventory_hosts(inventory).items():
        subnet = subnets[ip.rsplit(".", 1)[0] + "."]
        inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.small", SubnetId=subnet,
                                 PrivateIpAddress=ip, SecurityGroupIds=[sg],
                                 TagSpecifications=[{"ResourceType": "instance",
                                                     "Tags": [{"Key": "Name", "Value": name}]}])["Instances"][0]
        instances[name] = {"id": inst["InstanceId"], "az": inst["Placement"]["AvailabilityZone"]}
    cert_arn = import_certificate(moto, [f"*.{zone}", zone])
    tags = [{"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER}, {"Key": "ingress.k8s.aws/stack", "Value": STACK}]
    lb = elbv2.create_load_balancer(Name="k8s-ecoecomain-3f2a9c1b7d", Subnets=list(subnets.values()), SecurityGroups=[sg],
                                    Scheme="internet-facing", Type="application",
                                    Tags=tags + [{"Key": "ingress.k8s.aws/resource", "Value": "LoadBalancer"}])["LoadBalancers"][0]
    tg = elbv2.create_target_group(Name="k8s-istiosys-istioing-5c0e", Protocol="HTTP", Port=30080, VpcId=vpc,
                                   TargetType="instance", HealthCheckPath="/healthz/ready", Matcher={"HttpCode": "200"},
                                   Tags=tags + [{"Key": "ingress.k8s.aws/resource",
                                                 "Value": "istio-system/istio-ingress-istio-ingressgateway:80"}])["TargetGroups"][0]
    elbv2.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                           Targets=[{"Id": i["id"], "Port": 30080} for i in instances.values()])
    listener = elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                                     Certificates=[{"CertificateArn": cert_arn}],
                                     DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]
    zone_id = r53.create_hosted_zone(Name=zone, CallerReference="eco2-" + zone)["HostedZone"]["Id"]
    changes = []
    for host in hosts:
        changes.append(alias_change(host, lb["DNSName"], lb["CanonicalHostedZoneId"]))
        changes.append(txt_change(host, "A", txt_value()))
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return {"vpc": vpc, "instances": instances, "certificate_arn": cert_arn, "load_balancer": lb, "target_group": tg,
            "listener": listener, "zone_id": zone_id, "zone": zone, "hosts": hosts, "image": image,
            "subnets": subnets, "security_group": sg}


def alias_change(host: str, dns_name: str, zone_id: str, rtype: str = "A", action: str = "UPSERT") -> dict:
    return {"Action": action, "ResourceRecordSet": {
        "Name": host, "Type": rtype,
        "AliasTarget": {"HostedZoneId": zone_id, "DNSName": "dualstack." + dns_name, "EvaluateTargetHealth": True}}}


def txt_change(host: str, rtype: str, value: str, action: str = "UPSERT") -> dict:
    first, _, rest = host.partition(".")
    return {"Action": action, "ResourceRecordSet": {
        "Name": f"{rtype.lower()}-{first}.{rest}", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": value}]}}


__all__ = ["MotoServer", "seed_eco2", "aws_env", "import_certificate", "alias_change", "txt_change", "txt_value",
           "inventory_hosts", "FAKE_SECRET_KEY", "REGION", "STACK", "CLUSTER", "OWNER"]
