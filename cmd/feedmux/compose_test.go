package main

import (
	"net"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of docker-compose.yml the test checks.
type composeFile struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Restart     string            `yaml:"restart"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Environment map[string]string `yaml:"environment"`
		User        string            `yaml:"user"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// TestCompose checks that docker-compose.yml agrees with the Dockerfile:
// it builds the image here, publishes the port the image listens on,
// mounts the configuration read-only where the image reads it, keeps the
// database in a named volume at the image's volume, restarts, and leaves
// the image's user alone.
func TestCompose(t *testing.T) {
	data, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	d := readDockerfile(t)
	svc, ok := c.Services["feedmux"]
	if !ok {
		t.Fatalf("docker-compose.yml has no feedmux service: %v", c.Services)
	}
	if build, _ := svc.Build.(string); build != "." {
		t.Errorf("build %v, want . (the Dockerfile beside it)", svc.Build)
	}
	if !slices.Contains([]string{"always", "unless-stopped", "on-failure"}, svc.Restart) {
		t.Errorf("restart %q, want a restart policy", svc.Restart)
	}
	if svc.User != "" && svc.User != d.user {
		t.Errorf("user %q overrides the image's %q", svc.User, d.user)
	}
	for k, v := range svc.Environment {
		if d.env[k] != "" && d.env[k] != v {
			t.Errorf("environment %s=%s overrides the image's %s", k, v, d.env[k])
		}
	}

	_, listenPort, err := net.SplitHostPort(d.env["FEEDMUX_LISTEN"])
	if err != nil || !slices.Contains(d.expose, listenPort) {
		t.Fatalf("Dockerfile listens on %q and exposes %v: they disagree", d.env["FEEDMUX_LISTEN"], d.expose)
	}
	published := false
	for _, p := range svc.Ports {
		parts := strings.Split(p, ":")
		published = published || parts[len(parts)-1] == listenPort
	}
	if !published {
		t.Errorf("ports %v do not publish the image's port %s", svc.Ports, listenPort)
	}

	var configMounted, dataMounted bool
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			t.Errorf("volume %q: want SOURCE:TARGET[:MODE]", v)
			continue
		}
		source, target := parts[0], parts[1]
		readOnly := len(parts) > 2 && strings.Contains(parts[2], "ro")
		switch {
		case target == d.env["FEEDMUX_CONFIG"]:
			configMounted = true
			if !readOnly {
				t.Errorf("volume %q: the configuration is not mounted read-only", v)
			}
			if _, err := os.Stat(path.Join("../..", source)); err != nil {
				t.Errorf("volume %q: %v", v, err)
			}
		case slices.Contains(d.volumes, target):
			dataMounted = true
			if _, named := c.Volumes[source]; !named {
				t.Errorf("volume %q: %q is not a named volume of the file", v, source)
			}
			if readOnly {
				t.Errorf("volume %q: the database volume is read-only", v)
			}
			if !strings.HasPrefix(d.env["FEEDMUX_DB"], target+"/") {
				t.Errorf("the image's database %s is not in its volume %s", d.env["FEEDMUX_DB"], target)
			}
		}
	}
	if !configMounted {
		t.Errorf("volumes %v do not mount the configuration at %s", svc.Volumes, d.env["FEEDMUX_CONFIG"])
	}
	if !dataMounted {
		t.Errorf("volumes %v do not mount a named volume at the image's %v", svc.Volumes, d.volumes)
	}
}
