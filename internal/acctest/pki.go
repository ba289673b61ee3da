package acctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// KeyFormat is how a generated private key is encoded in PEM.
type KeyFormat int

// The private key encodings GitLab accepts for a receptive agent's client key.
const (
	// ECDSAPKCS8 is a P-256 key as -----BEGIN PRIVATE KEY----- (PKCS#8).
	ECDSAPKCS8 KeyFormat = iota
	// ECDSASEC1 is a P-256 key as -----BEGIN EC PRIVATE KEY----- (SEC 1).
	ECDSASEC1
	// RSAPKCS1 is a 2048-bit RSA key as -----BEGIN RSA PRIVATE KEY----- (PKCS#1).
	RSAPKCS1
	// RSAPKCS8 is a 2048-bit RSA key as -----BEGIN PRIVATE KEY----- (PKCS#8).
	RSAPKCS8
	// Ed25519PKCS8 is an Ed25519 key as -----BEGIN PRIVATE KEY----- (PKCS#8).
	Ed25519PKCS8
)

// CA is a certificate authority generated for a test.
type CA struct {
	// CertPEM is the CA's self-signed certificate.
	CertPEM string
	cert    *x509.Certificate
	key     crypto.Signer
}

// Certificate is a certificate issued for a test, with its private key.
// KeyPEM is a secret: tests compare it, never print it.
type Certificate struct {
	CertPEM string
	KeyPEM  string
	// Cert is the parsed certificate.
	Cert *x509.Certificate
}

// NewCA generates a self-signed certificate authority valid for a day.
func NewCA(t testing.TB, commonName string) *CA {
	t.Helper()
	key := generateKey(t, ECDSAPKCS8)
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(t),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"gitlabagent acceptance tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("creating the CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{CertPEM: encodeCertificate(der), cert: cert, key: key}
}

// ClientCertificate issues a client certificate (extended key usage
// clientAuth) for commonName, with a new key encoded as format.
func (ca *CA) ClientCertificate(t testing.TB, commonName string, format KeyFormat) Certificate {
	t.Helper()
	return ca.issue(t, commonName, format, x509.ExtKeyUsageClientAuth)
}

func (ca *CA) issue(t testing.TB, commonName string, format KeyFormat, usage x509.ExtKeyUsage) Certificate {
	t.Helper()
	key := generateKey(t, format)
	keyUsage := x509.KeyUsageDigitalSignature
	if _, ok := key.(*rsa.PrivateKey); ok {
		keyUsage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(t),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     keyUsage,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatalf("issuing a certificate for %s: %v", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return Certificate{CertPEM: encodeCertificate(der), KeyPEM: encodeKey(t, key, format), Cert: cert}
}

// PrivateKeyPEM generates a private key that belongs to no certificate.
func PrivateKeyPEM(t testing.TB, format KeyFormat) string {
	t.Helper()
	return encodeKey(t, generateKey(t, format), format)
}

// EncryptedPrivateKeyPEM is a PEM block of an encrypted PKCS#8 key, as
// `openssl pkcs8 -topk8` writes it (the content is random: only its type
// matters to validation).
func EncryptedPrivateKeyPEM(t testing.TB) string {
	t.Helper()
	junk := make([]byte, 128)
	if _, err := rand.Read(junk); err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: junk}))
}

// KeyFingerprint is a line of a PEM key's Base64 body: a string that occurs
// wherever the key does, in any JSON or state file, to search for without
// printing the key.
func KeyFingerprint(keyPEM string) string {
	for _, line := range strings.Split(keyPEM, "\n") {
		if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
			return line
		}
	}
	return keyPEM
}

func generateKey(t testing.TB, format KeyFormat) crypto.Signer {
	t.Helper()
	var key crypto.Signer
	var err error
	switch format {
	case ECDSAPKCS8, ECDSASEC1:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSAPKCS1, RSAPKCS8:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case Ed25519PKCS8:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown key format %d", format)
	}
	if err != nil {
		t.Fatalf("generating a key: %v", err)
	}
	return key
}

func encodeKey(t testing.TB, key crypto.Signer, format KeyFormat) string {
	t.Helper()
	var block *pem.Block
	switch format {
	case ECDSASEC1:
		der, err := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	case RSAPKCS1:
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey))}
	default:
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	return string(pem.EncodeToMemory(block))
}

func encodeCertificate(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func serialNumber(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
