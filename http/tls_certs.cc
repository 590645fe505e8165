#include "http/tls_certs.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string_view>

namespace aidi::http {
namespace {

constexpr long kBackdateSeconds = 60 * 60;  // tolerate clients whose clocks run a little behind
constexpr long kValiditySeconds = 365L * 24 * 60 * 60;

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

// Takes OpenSSL's oldest queued error (the root cause) and clears the rest of the queue.
Status OpensslError(std::string_view what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return Status::Internal(std::string(what) + ": " + buf);
}

// One subjectAltName entry: an IP address (raw 4 or 16 bytes) or a DNS name.
struct SanEntry {
  bool is_ip = false;
  std::string value;
  bool operator==(const SanEntry&) const = default;
};

bool IsValidDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      std::size_t len = i - label_start;
      if (len == 0 || len > 63) return false;
      label_start = i + 1;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(name[i]);
    // A leading "*" label is a wildcard; underscores appear in some internal names.
    bool wildcard = c == '*' && i == 0 && (name.size() == 1 || name[1] == '.');
    if (!std::isalnum(c) && c != '-' && c != '_' && !wildcard) return false;
  }
  return true;
}

StatusOr<SanEntry> ParseHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // "[::1]" as written in URLs
  }
  std::string text(host);
  unsigned char addr[16];
  if (inet_pton(AF_INET, text.c_str(), addr) == 1) {
    return SanEntry{true, std::string(reinterpret_cast<char*>(addr), 4)};
  }
  if (inet_pton(AF_INET6, text.c_str(), addr) == 1) {
    return SanEntry{true, std::string(reinterpret_cast<char*>(addr), 16)};
  }
  if (!IsValidDnsName(text)) {
    return Status::InvalidArgument("not an IP address or DNS name: \"" + text + "\"");
  }
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return SanEntry{false, text};
}

StatusOr<std::vector<SanEntry>> CollectSans(const std::vector<std::string>& hosts) {
  std::vector<std::string> all = {"localhost", "127.0.0.1", "::1"};
  all.insert(all.end(), hosts.begin(), hosts.end());
  std::vector<SanEntry> sans;
  for (const std::string& host : all) {
    if (host.empty()) continue;
    AIDI_ASSIGN_OR_RETURN(SanEntry entry, ParseHost(host));
    if (std::find(sans.begin(), sans.end(), entry) == sans.end()) sans.push_back(entry);
  }
  return sans;
}

StatusOr<PkeyPtr> NewP256Key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpensslError("generating P-256 key");
  return key;
}

// A random positive 128-bit serial (RFC 5280 asks for at most 20 octets, positive, unique). The
// top bit is cleared so DER needs no sign byte; the next one is set so it is never zero.
Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return OpensslError("random serial");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpensslError("setting serial");
  }
  return Status::Ok();
}

Status SetSubject(X509* cert, const char* common_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  auto add = [name](const char* field, const char* value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                                      reinterpret_cast<const unsigned char*>(value), -1, -1,
                                      0) == 1;
  };
  if (!add("O", "aidi") || !add("CN", common_name)) return OpensslError("setting subject");
  return Status::Ok();
}

// A v3 certificate skeleton: serial, validity window, subject and public key.
StatusOr<X509Ptr> NewCert(const char* common_name, EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert) return OpensslError("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpensslError("setting version");
  AIDI_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds) == nullptr) {
    return OpensslError("setting validity");
  }
  AIDI_RETURN_IF_ERROR(SetSubject(cert.get(), common_name));
  if (X509_set_pubkey(cert.get(), key) != 1) return OpensslError("setting public key");
  return cert;
}

// Adds one extension written in openssl.cnf syntax. `issuer` supplies the authority key id;
// `cert` itself must already carry its public key for "subjectKeyIdentifier=hash".
Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpensslError(std::string("adding extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  return Status::Ok();
}

// subjectAltName built from typed entries rather than a config string, so a host name can never
// smuggle in extra entries through commas.
Status AddSubjectAltNames(X509* cert, const std::vector<SanEntry>& sans) {
  NamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return OpensslError("allocating subjectAltName");
  for (const SanEntry& san : sans) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (gn == nullptr) return OpensslError("allocating subjectAltName entry");
    ASN1_STRING* value = san.is_ip ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    if (value == nullptr ||
        ASN1_STRING_set(value, san.value.data(), static_cast<int>(san.value.size())) != 1) {
      ASN1_STRING_free(value);
      GENERAL_NAME_free(gn);
      return OpensslError("setting subjectAltName entry");
    }
    GENERAL_NAME_set0_value(gn, san.is_ip ? GEN_IPADD : GEN_DNS, value);
    if (sk_GENERAL_NAME_push(names.get(), gn) == 0) {
      GENERAL_NAME_free(gn);
      return OpensslError("adding subjectAltName entry");
    }
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpensslError("adding subjectAltName");
  }
  return Status::Ok();
}

Status Sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) return OpensslError("signing certificate");
  return Status::Ok();
}

StatusOr<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return OpensslError("reading PEM buffer");
  return std::string(data, static_cast<std::size_t>(len));
}

StatusOr<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpensslError("encoding cert");
  return BioContents(bio.get());
}

// PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted: what Go's tls.X509KeyPair and OpenSSL both read.
StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("encoding key");
  }
  return BioContents(bio.get());
}

StatusOr<X509Ptr> MakeCa(EVP_PKEY* ca_key) {
  AIDI_ASSIGN_OR_RETURN(X509Ptr ca, NewCert("aidi-devcluster-ca", ca_key));
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  AIDI_RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE"));
  AIDI_RETURN_IF_ERROR(
      AddExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  AIDI_RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash"));
  AIDI_RETURN_IF_ERROR(Sign(ca.get(), ca_key));
  return ca;
}

StatusOr<X509Ptr> MakeServerCert(EVP_PKEY* server_key, X509* ca, EVP_PKEY* ca_key,
                                 const std::vector<SanEntry>& sans) {
  AIDI_ASSIGN_OR_RETURN(X509Ptr cert, NewCert("aidi-devcluster", server_key));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca));
  AIDI_RETURN_IF_ERROR(AddExtension(cert.get(), ca, NID_basic_constraints, "critical,CA:FALSE"));
  AIDI_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
  AIDI_RETURN_IF_ERROR(AddExtension(cert.get(), ca, NID_ext_key_usage, "serverAuth"));
  AIDI_RETURN_IF_ERROR(AddExtension(cert.get(), ca, NID_subject_key_identifier, "hash"));
  AIDI_RETURN_IF_ERROR(AddExtension(cert.get(), ca, NID_authority_key_identifier, "keyid:always"));
  AIDI_RETURN_IF_ERROR(AddSubjectAltNames(cert.get(), sans));
  AIDI_RETURN_IF_ERROR(Sign(cert.get(), ca_key));
  return cert;
}

}  // namespace

StatusOr<GeneratedCerts> GenerateCerts(const std::vector<std::string>& hosts) {
  ERR_clear_error();  // the error queue is per thread; start from a clean one
  AIDI_ASSIGN_OR_RETURN(std::vector<SanEntry> sans, CollectSans(hosts));
  AIDI_ASSIGN_OR_RETURN(PkeyPtr ca_key, NewP256Key());
  AIDI_ASSIGN_OR_RETURN(PkeyPtr server_key, NewP256Key());
  AIDI_ASSIGN_OR_RETURN(X509Ptr ca, MakeCa(ca_key.get()));
  AIDI_ASSIGN_OR_RETURN(X509Ptr server,
                        MakeServerCert(server_key.get(), ca.get(), ca_key.get(), sans));
  GeneratedCerts out;
  AIDI_ASSIGN_OR_RETURN(out.ca_cert_pem, CertPem(ca.get()));
  AIDI_ASSIGN_OR_RETURN(out.server_cert_pem, CertPem(server.get()));
  AIDI_ASSIGN_OR_RETURN(out.server_key_pem, KeyPem(server_key.get()));
  return out;
}

}  // namespace aidi::http
