/*
 * sign.c — the key Baton signs SNS messages with. SNS signs every message it sends with
 * RSA (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) and points at its certificate
 * (SigningCertURL). A self-hosted server has no AWS certificate, so each server makes its
 * own: an RSA 2048 key and a self-signed certificate for ten years, created once in
 * DATA/sns/ (the key file mode 0600) and served at SigningCertURL. A receiver that checks
 * signatures verifies them with that certificate (it must trust it the way it trusts this
 * server, since the certificate is not issued by AWS's CA).
 */
#include "topic/topic_int.h"

#include "base/alloc.h"
#include "base/file.h"
#include "base/rand.h"
#include "queue/codec.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct topic__signer {
    EVP_PKEY *key;
    char *cert_pem;
};

/* Writes the PEM text of x or key to path, durably (base/file.h). */
static int write_pem(const char *path, X509 *x, EVP_PKEY *key, unsigned mode)
{
    BIO *b = BIO_new(BIO_s_mem());
    int ok = b != NULL && (x ? PEM_write_bio_X509(b, x)
                             : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
    char *data = NULL;
    long len = ok ? BIO_get_mem_data(b, &data) : 0;
    int rc = ok && len > 0 ? bt_write_file_durable(path, data, (size_t)len, mode) : -1;
    if (rc != 0 && !ok)
        errno = ENOMEM;
    BIO_free(b);
    return rc;
}

static int create(const char *key_path, const char *cert_path, bt_err *err)
{
    int rc = -1;
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    if (key == NULL || x == NULL) {
        bt_err_set(err, BT_EIO, "cannot create the SNS signing key");
        goto out;
    }
    X509_set_version(x, 2);
    uint8_t serial[8];
    bt_random_bytes(serial, sizeof serial);
    ASN1_INTEGER_set(X509_get_serialNumber(x),
                     (long)(serial[0] & 0x7f) << 24 | serial[1] << 16 | serial[2] << 8 | serial[3]);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Baton", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sns.baton.local",
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, key, EVP_sha256()) == 0) {
        bt_err_set(err, BT_EIO, "cannot sign the SNS certificate");
        goto out;
    }
    /* Both files are written whole or not at all, the certificate first: the key's
     * presence is what says the pair exists, so a crash in between makes a new pair. */
    if (write_pem(cert_path, x, NULL, 0644) != 0 || write_pem(key_path, NULL, key, 0600) != 0) {
        bt_err_set(err, BT_EIO, "cannot write the SNS signing key in %s: %s", key_path,
                   strerror(errno));
        goto out;
    }
    rc = 0;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

topic__signer *topic__signer_open(const char *dir, bt_err *err)
{
    mkdir(dir, 0700);
    char *key_path = bt_xasprintf("%s/signing-key.pem", dir);
    char *cert_path = bt_xasprintf("%s/signing-cert.pem", dir);
    topic__signer *s = NULL;
    struct stat st;
    if (stat(key_path, &st) != 0 && create(key_path, cert_path, err) < 0)
        goto out;
    FILE *kf = fopen(key_path, "r");
    EVP_PKEY *key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    if (kf)
        fclose(kf);
    size_t len;
    char *cert = bt_read_file(cert_path, &len);
    if (key == NULL || cert == NULL) {
        bt_err_set(err, BT_EIO, "cannot read the SNS signing key in %s", dir);
        EVP_PKEY_free(key);
        free(cert);
        goto out;
    }
    s = bt_xcalloc(1, sizeof *s);
    s->key = key;
    s->cert_pem = cert;
out:
    free(key_path);
    free(cert_path);
    return s;
}

void topic__signer_free(topic__signer *s)
{
    if (s == NULL)
        return;
    EVP_PKEY_free(s->key);
    free(s->cert_pem);
    free(s);
}

const char *topic__signer_cert(const topic__signer *s)
{
    return s->cert_pem;
}

char *topic__sign(topic__signer *s, const char *version, const char *text)
{
    const EVP_MD *md = version && strcmp(version, "2") == 0 ? EVP_sha256() : EVP_sha1();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[512];
    size_t sig_len = sizeof sig;
    bt_buf b;
    bt_buf_init(&b);
    if (EVP_DigestSignInit(ctx, NULL, md, NULL, s->key) == 1 &&
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)text, strlen(text)) == 1)
        qc_base64_encode(sig, sig_len, &b);
    EVP_MD_CTX_free(ctx);
    if (b.data == NULL)
        bt_buf_puts(&b, "");
    return bt_buf_steal(&b);
}
