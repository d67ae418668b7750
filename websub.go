package feedmux

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
	"time"
)

// WebSub (W3C Recommendation, 23 January 2018) signs each content
// distribution with the subscription's secret: X-Hub-Signature is
// "method=hexdigest", an HMAC of the body.

// SignatureHeader is the header of a signed content distribution.
const SignatureHeader = "X-Hub-Signature"

// HubSignature is the X-Hub-Signature value of body under secret, with
// the method feedmux's hub uses: sha256.
func HubSignature(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// signatureHashes are the methods the Recommendation lets a hub choose.
var signatureHashes = map[string]func() hash.Hash{
	"sha1": sha1.New, "sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New,
}

// VerifyHubSignature reports whether header (an X-Hub-Signature value)
// signs body with secret, by any method the Recommendation names; an empty
// or malformed header, or an unknown method, does not.
func VerifyHubSignature(header string, secret, body []byte) bool {
	method, digest, ok := strings.Cut(strings.TrimSpace(header), "=")
	newHash := signatureHashes[strings.ToLower(method)]
	if !ok || newHash == nil {
		return false
	}
	want, err := hex.DecodeString(digest)
	if err != nil {
		return false
	}
	m := hmac.New(newHash, secret)
	m.Write(body)
	return hmac.Equal(m.Sum(nil), want)
}

// HubSubscription is a subscription at feedmux's own hub: a reader's
// callback that is sent every new version of a feedmux feed.
type HubSubscription struct {
	Topic     string    // the feedmux feed URL, query included
	Callback  string    // where each new version is posted
	Secret    string    // signs each post; "" for none
	LeaseEnd  time.Time // when the subscription ends unless renewed
	Delivered string    // the ETag of the last version delivered (or current at verification)
	Failures  int       // failed deliveries in a row
	NextTry   time.Time // when a failed delivery is tried again; zero: at the next change
	LastError string    // why the last delivery failed
}

// Push is a WebSub subscription feedmux holds, as a subscriber, at the hub
// a source's feed names, so that the hub pushes the feed's changes instead
// of feedmux polling for them.
type Push struct {
	FeedURL    string // the configured URL of the source feed
	Hub        string
	Topic      string // the feed's self URL, else its URL
	CallbackID string // the last path segment of the callback URL
	// Secret signs the hub's content distributions. It is read only where
	// a push is checked, never with a FeedState.
	Secret    string
	State     string        // PushSubscribing, PushActive, PushDenied, PushUnsubscribing, PushUnsubscribed
	Lease     time.Duration // what the hub granted at the last verification
	LeaseEnd  time.Time
	Next      time.Time // when the subscription needs work next: a request, a renewal, forgetting it
	Attempts  int       // requests made since the last verification of intent
	LastError string
	Pushes    int // content distributions stored
	Rejected  int // content distributions discarded: wrong or missing signature
	LastPush  time.Time
}

// States of a Push.
const (
	PushSubscribing   = "subscribing"   // asked for, not verified yet
	PushActive        = "active"        // verified: the hub pushes until LeaseEnd
	PushDenied        = "denied"        // the hub refused; polling goes on
	PushUnsubscribing = "unsubscribing" // to be cancelled at the hub
	PushUnsubscribed  = "unsubscribed"  // cancelled; forgotten once verified or at Next
)

// Active reports whether the hub pushes the feed's changes at now: the
// subscription was verified and its lease has not ended.
func (p *Push) Active(now time.Time) bool {
	return p.State == PushActive && now.Before(p.LeaseEnd)
}
