package aggregator

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrBlockedAddress is returned for a connection the network guard refused.
var ErrBlockedAddress = errors.New("address not allowed")

// blockedNetworks are the addresses other people's links must not reach:
// this machine, private and shared networks, link-local, multicast,
// reserved and unspecified addresses.
var blockedNetworks = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "127.0.0.0/8", // unspecified, this host, loopback
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", // RFC 1918
		"100.64.0.0/10",                 // carrier-grade NAT
		"169.254.0.0/16",                // link-local
		"192.0.0.0/24", "198.18.0.0/15", // IETF protocol assignments, benchmarking
		"224.0.0.0/4", "240.0.0.0/4", // multicast, reserved and broadcast
		"::/128", "::1/128", // unspecified, loopback
		"fc00::/7",                                    // unique-local
		"fe80::/10",                                   // link-local
		"ff00::/8",                                    // multicast
		"64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", // NAT64 and 6to4, which embed IPv4 addresses
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Guard decides which addresses feedmux connects to on behalf of other
// people's data (article pages an item links to, and later callbacks): none
// of blockedNetworks unless the operator allows the network. It checks the
// address actually dialed, after name resolution, so that a name resolving
// to a private address, or changing its answer, cannot get around it.
type Guard struct {
	allow []netip.Prefix
}

// NewGuard returns a Guard that also lets through the networks allow.
func NewGuard(allow []netip.Prefix) *Guard {
	return &Guard{allow: allow}
}

// ParseNetworks parses CIDR prefixes ("127.0.0.1/32", "fd00::/8") or bare
// addresses, for [content] allow_networks.
func ParseNetworks(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("invalid network %q (want a CIDR prefix such as 10.0.0.0/8)", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Allowed reports whether a connection to addr may be made.
func (g *Guard) Allowed(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range g.allow {
		if p.Contains(addr) {
			return true
		}
	}
	for _, p := range blockedNetworks {
		if p.Contains(addr) {
			return false
		}
	}
	return addr.IsValid()
}

// Control is a net.Dialer Control function that refuses the addresses the
// guard does not allow.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
	}
	if !g.Allowed(addr) {
		return fmt.Errorf("%w: %s is in a private or reserved network (see [content] allow_networks)", ErrBlockedAddress, host)
	}
	return nil
}
