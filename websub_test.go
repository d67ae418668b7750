package feedmux

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"testing"
)

func TestHubSignature(t *testing.T) {
	secret, body := []byte("s3cret"), []byte("<feed/>")
	sig := HubSignature(secret, body)
	if !VerifyHubSignature(sig, secret, body) {
		t.Fatalf("%s does not verify", sig)
	}
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	sha1Sig := "sha1=" + hex.EncodeToString(m.Sum(nil))
	if !VerifyHubSignature(sha1Sig, secret, body) {
		t.Errorf("a sha1 signature (allowed by the Recommendation) does not verify")
	}
	for _, bad := range []string{"", "sha256", "sha256=", "md5=" + sig[7:], sig[:len(sig)-2] + "00", "sha256=zz"} {
		if VerifyHubSignature(bad, secret, body) {
			t.Errorf("%q verifies", bad)
		}
	}
	if VerifyHubSignature(sig, []byte("other"), body) || VerifyHubSignature(sig, secret, []byte("<feed />")) {
		t.Errorf("a signature verifies under another secret or body")
	}
}
