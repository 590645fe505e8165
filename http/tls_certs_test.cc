#include "http/tls_certs.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace aidi::http {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr ParseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ParseKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return {key, &EVP_PKEY_free};
}

std::string CommonName(X509* cert) {
  char buf[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

bool IsCritical(X509* cert, int nid) {
  int idx = X509_get_ext_by_NID(cert, nid, -1);
  return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) == 1;
}

int SanCount(X509* cert) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  int n = names == nullptr ? 0 : sk_GENERAL_NAME_num(names);
  GENERAL_NAMES_free(names);
  return n;
}

// Chain verification for TLS server use, as a client library would do it.
bool Verifies(X509* ca, X509* leaf) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

class TlsCertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = GenerateCerts({"aidi.test", "10.1.2.3", "[fd00::7]", "Devcluster.Local", ""});
    ASSERT_TRUE(certs.ok()) << certs.status().ToString();
    certs_ = *certs;
    ca_ = ParseCert(certs_.ca_cert_pem);
    server_ = ParseCert(certs_.server_cert_pem);
    ASSERT_TRUE(ca_ && server_);
  }
  GeneratedCerts certs_;
  X509Ptr ca_, server_;
};

TEST_F(TlsCertsTest, CaIsAnEcP256CertificateAuthority) {
  EXPECT_EQ(CommonName(ca_.get()), "aidi-devcluster-ca");
  EXPECT_EQ(X509_get_version(ca_.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(ca_.get()), 1);
  EXPECT_TRUE(IsCritical(ca_.get(), NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(ca_.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(ca_.get()), nullptr);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(ca_.get()), X509_get_issuer_name(ca_.get())), 0);
  EVP_PKEY* key = X509_get0_pubkey(ca_.get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  char group[64] = "";
  std::size_t len = 0;
  EVP_PKEY_get_group_name(key, group, sizeof group, &len);
  EXPECT_STREQ(group, "prime256v1");
}

TEST_F(TlsCertsTest, ServerCertHasServerExtensions) {
  X509* s = server_.get();
  EXPECT_EQ(CommonName(s), "aidi-devcluster");
  EXPECT_EQ(X509_check_ca(s), 0);
  EXPECT_NE(X509_get_ext_by_NID(s, NID_basic_constraints, -1), -1);
  EXPECT_EQ(X509_get_key_usage(s),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(X509_get_extended_key_usage(s), static_cast<uint32_t>(XKU_SSL_SERVER));
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(s);
  ASSERT_NE(aki, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca_.get())), 0);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(s), X509_get_subject_name(ca_.get())), 0);
  EXPECT_EQ(X509_check_issued(ca_.get(), s), X509_V_OK);
}

TEST_F(TlsCertsTest, SubjectAltNamesCoverDefaultsAndGivenHosts) {
  X509* s = server_.get();
  for (const char* host : {"localhost", "aidi.test", "devcluster.local", "DEVCLUSTER.local"}) {
    EXPECT_EQ(X509_check_host(s, host, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr), 1) << host;
  }
  for (const char* ip : {"127.0.0.1", "::1", "10.1.2.3", "fd00::7"}) {
    EXPECT_EQ(X509_check_ip_asc(s, ip, 0), 1) << ip;
  }
  EXPECT_NE(X509_check_host(s, "aidi-devcluster", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr),
            1);
  EXPECT_NE(X509_check_host(s, "example.com", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(s, "10.1.2.4", 0), 1);
  EXPECT_EQ(SanCount(s), 7);  // no duplicates, the empty host ignored
}

TEST_F(TlsCertsTest, KeyMatchesAndChainVerifies) {
  auto key = ParseKey(certs_.server_key_pem);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(server_.get(), key.get()), 1);
  EXPECT_NE(certs_.server_key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(Verifies(ca_.get(), server_.get()));
  auto other = GenerateCerts({});
  ASSERT_TRUE(other.ok());
  X509Ptr other_ca = ParseCert(other->ca_cert_pem);
  EXPECT_FALSE(Verifies(other_ca.get(), server_.get()));
}

TEST_F(TlsCertsTest, SerialsAreRandomPositive128Bit) {
  for (X509* cert : {ca_.get(), server_.get()}) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
    EXPECT_FALSE(BN_is_negative(bn));
    EXPECT_EQ(BN_num_bits(bn), 127);
    BN_free(bn);
  }
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(ca_.get()), X509_get0_serialNumber(server_.get())),
      0);
}

TEST_F(TlsCertsTest, ValidFromAnHourAgoForAYear) {
  std::time_t now = std::time(nullptr);
  for (X509* cert : {ca_.get(), server_.get()}) {
    std::time_t before_limit = now - 3500;
    std::time_t after_min = now + 364L * 24 * 3600;
    std::time_t after_max = now + 366L * 24 * 3600;
    EXPECT_LT(X509_cmp_time(X509_get0_notBefore(cert), &before_limit), 0);
    EXPECT_GT(X509_cmp_time(X509_get0_notAfter(cert), &after_min), 0);
    EXPECT_LT(X509_cmp_time(X509_get0_notAfter(cert), &after_max), 0);
  }
}

TEST(TlsCerts, RejectsHostsThatAreNeitherIpNorDnsName) {
  for (const char* bad : {"bad host", "a,DNS:evil.com", "x..y", "-/x", "a*b.c"}) {
    auto certs = GenerateCerts({bad});
    EXPECT_FALSE(certs.ok()) << bad;
    EXPECT_EQ(certs.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(GenerateCerts({"*.aidi.test", "under_score.local"}).ok());
}

TEST(TlsCerts, EachCallMakesANewCa) {
  auto a = GenerateCerts({});
  auto b = GenerateCerts({});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->ca_cert_pem, b->ca_cert_pem);
  EXPECT_NE(a->server_key_pem, b->server_key_pem);
}

// The openssl command line applies its own checks (purpose, key usage): what an operator would
// run by hand to debug a TLS problem.
TEST_F(TlsCertsTest, OpensslVerifyAcceptsChain) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl";
  std::string tmpl = (std::filesystem::temp_directory_path() / "aidi-certs-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  std::ofstream(dir + "/ca.crt") << certs_.ca_cert_pem;
  std::ofstream(dir + "/server.crt") << certs_.server_cert_pem;
  std::string cmd =
      "openssl verify -CAfile " + dir + "/ca.crt -purpose sslserver " + dir + "/server.crt 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("server.crt: OK"), std::string::npos) << out;
}

}  // namespace
}  // namespace aidi::http
