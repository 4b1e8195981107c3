"""The cluster's certificates: one CA, the API server's serving cert, client certs, the SA key pair."""
from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

# Identities of the components: the audit log tells their writes apart from the client's.
ADMIN = "eco2-admin"
CLIENTS = {
    ADMIN: "system:masters",
    "system:kube-controller-manager": None,
    "system:kube-scheduler": None,
    "local-cluster:kwok": "system:masters",
    "local-cluster:istiod": "system:masters",
    "local-cluster:supervisor": "system:masters",
}


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _cert(subject, issuer, pub, signer, *, ca=False, server_names=(), client=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(pub)
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        usages = [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH] if client else [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]
        b = b.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if server_names:
        sans = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in server_names]
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(signer, hashes.SHA256())


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def client_file_stem(user: str) -> str:
    return user.replace(":", "-")


def generate(pki: Path, service_ip: str) -> None:
    """Write ca.{crt,key}, apiserver.{crt,key}, <client>.{crt,key}, sa.{key,pub} into pki (idempotent)."""
    pki.mkdir(parents=True, exist_ok=True)
    if (pki / "done").exists():
        return
    ca_key = _key()
    ca_name = _name("eco2-local-cluster-ca")
    ca = _cert(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    _write(pki / "ca.key", _pem_key(ca_key))
    (pki / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    names = ("127.0.0.1", service_ip, "localhost", "kubernetes", "kubernetes.default",
             "kubernetes.default.svc", "kubernetes.default.svc.cluster.local")
    key = _key()
    crt = _cert(_name("kube-apiserver"), ca_name, key.public_key(), ca_key, server_names=names)
    _write(pki / "apiserver.key", _pem_key(key))
    (pki / "apiserver.crt").write_bytes(crt.public_bytes(serialization.Encoding.PEM))
    for user, org in CLIENTS.items():
        key = _key()
        crt = _cert(_name(user, org), ca_name, key.public_key(), ca_key, client=True)
        stem = client_file_stem(user)
        _write(pki / f"{stem}.key", _pem_key(key))
        (pki / f"{stem}.crt").write_bytes(crt.public_bytes(serialization.Encoding.PEM))
    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write(pki / "sa.key", sa.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                            serialization.NoEncryption()))
    (pki / "sa.pub").write_bytes(sa.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo))
    (pki / "done").write_text("ok\n")
