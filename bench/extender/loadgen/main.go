// Command loadgen drives the scheduler extender benchmark (bench/extender/run.sh).
//
//	loadgen setup  --kubeconfig F --nodes 5000 --burst-nodes 1000 --snapshot OUT.json
//	    Creates the EdgeSites and Nodes in the API server (aidi-devcluster) and writes the same
//	    cluster as a JSON snapshot for the Go anchor.
//	loadgen bench  --url http://127.0.0.1:PORT --nodes N --clients C --seconds S --out R.json
//	    Replays ExtenderArgs (NodeNames form, as kube-scheduler sends them with
//	    nodeCacheCapable) for the first N nodes: filter, then prioritize over the nodes that
//	    passed, over C keep-alive loopback connections, for S seconds. Records the time of
//	    every filter + prioritize pair (from writing the filter request to having read the whole
//	    prioritize answer), throughput in pairs/s, and, when the server has
//	    aidi_extender_request_duration_seconds in /metrics, the server-side histogram's delta.
//	loadgen burst  --kubeconfig F --url URL --pods 10000 --clients 16 --out R.json
//	    Creates the pods (1 GPU each, schedulerName aidi-scheduler), has C workers take each
//	    through filter + prioritize over the burst nodes and /bind it to the top-scored node
//	    (ties: the first, so concurrent workers contend for the same node), retries refused
//	    pods, then counts over the API how many GPUs the bound pods hold per node.
//
// The HTTP client for the extender is a minimal HTTP/1.1 client over one TCP connection per
// worker (keep-alive, TCP_NODELAY, one write per request), so the client adds little to the
// figures; it is the same for both servers.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen setup|bench|burst [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "setup":
		err = setup(os.Args[2:])
	case "bench":
		err = bench(os.Args[2:])
	case "burst":
		err = burst(os.Args[2:])
	case "count":
		err = count(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------------------------
// The cluster

type site struct {
	Name            string             `json:"name"`
	Type            string             `json:"-"`
	Region          string             `json:"-"`
	LatencyMs       float64            `json:"latencyMs"`
	BandwidthMbps   float64            `json:"bandwidthMbps"`
	EgressCostPerGB float64            `json:"egressCostPerGB"`
	GpuHour         map[string]float64 `json:"gpuHour"`
	CpuCoreHour     float64            `json:"cpuCoreHour"`
	Maintenance     bool               `json:"maintenance"`
	Models          []string           `json:"-"`
}

type snapNode struct {
	Name         string `json:"name"`
	Site         string `json:"site"`
	GpuModel     string `json:"gpuModel"`
	GpuMemoryMiB int64  `json:"gpuMemoryMiB"`
	GpuTotal     int    `json:"gpuTotal"`
	GpuUsed      int    `json:"gpuUsed"`
	Cordoned     bool   `json:"cordoned"`
}

var gpuMemoryMiB = map[string]int64{
	"NVIDIA-H100-80GB-HBM3": 81559, "NVIDIA-A100-SXM4-80GB": 81920, "NVIDIA-A100-SXM4-40GB": 40960,
	"NVIDIA-L4": 23034, "NVIDIA-L40S": 46068, "Tesla-T4": 15360, "NVIDIA-Jetson-AGX-Orin": 32768,
	"NVIDIA-H200": 143771,
}

const burstSite = "burst-dc"

func sites() []site {
	return []site{
		{Name: "cloud-fra", Type: "Cloud", Region: "eu-central-1", LatencyMs: 8, BandwidthMbps: 10000, EgressCostPerGB: 0.02,
			GpuHour: map[string]float64{"NVIDIA-H100-80GB-HBM3": 4.5, "NVIDIA-A100-SXM4-80GB": 2.9, "NVIDIA-L4": 0.8}, CpuCoreHour: 0.04,
			Models: []string{"NVIDIA-H100-80GB-HBM3", "NVIDIA-A100-SXM4-80GB", "NVIDIA-L4"}},
		{Name: "cloud-iad", Type: "Cloud", Region: "us-east-1", LatencyMs: 90, BandwidthMbps: 5000, EgressCostPerGB: 0.09,
			GpuHour: map[string]float64{"NVIDIA-H100-80GB-HBM3": 3.9, "NVIDIA-H200": 5.2, "NVIDIA-A100-SXM4-40GB": 2.2}, CpuCoreHour: 0.035,
			Models: []string{"NVIDIA-H100-80GB-HBM3", "NVIDIA-H200", "NVIDIA-A100-SXM4-40GB"}},
		{Name: "edge-munich", Type: "Edge", Region: "munich", LatencyMs: 12, BandwidthMbps: 1000,
			GpuHour: map[string]float64{"NVIDIA-L4": 0.6, "NVIDIA-Jetson-AGX-Orin": 0.1},
			Models:  []string{"NVIDIA-L4", "NVIDIA-Jetson-AGX-Orin"}},
		{Name: "edge-berlin", Type: "Edge", Region: "berlin", LatencyMs: 20, BandwidthMbps: 500, EgressCostPerGB: 0.01,
			GpuHour: map[string]float64{"NVIDIA-L4": 0.55, "Tesla-T4": 0.3, "NVIDIA-L40S": 1.4},
			Models:  []string{"NVIDIA-L4", "Tesla-T4", "NVIDIA-L40S"}},
		{Name: "edge-lisbon", Type: "Edge", Region: "lisbon", LatencyMs: 45, BandwidthMbps: 200, Maintenance: true,
			GpuHour: map[string]float64{"NVIDIA-L4": 0.5}, Models: []string{"NVIDIA-L4"}},
		{Name: "onprem-rack", Type: "OnPrem", Region: "frankfurt", LatencyMs: 2, BandwidthMbps: 25000,
			GpuHour: map[string]float64{}, Models: []string{"NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-SXM4-40GB"}},
		{Name: "edge-far", Type: "Edge", Region: "reykjavik", LatencyMs: 150, BandwidthMbps: 50,
			GpuHour: map[string]float64{"Tesla-T4": 0.2}, Models: []string{"Tesla-T4", "NVIDIA-L4"}},
		{Name: "cloud-sgp", Type: "Cloud", Region: "ap-southeast-1", LatencyMs: 180, BandwidthMbps: 2000, EgressCostPerGB: 0.12,
			GpuHour: map[string]float64{"NVIDIA-H100-80GB-HBM3": 4.2, "NVIDIA-L40S": 1.6}, CpuCoreHour: 0.05,
			Models: []string{"NVIDIA-H100-80GB-HBM3", "NVIDIA-L40S"}},
		{Name: burstSite, Type: "Cloud", Region: "eu-west-1", LatencyMs: 10, BandwidthMbps: 10000, EgressCostPerGB: 0.02,
			GpuHour: map[string]float64{"NVIDIA-H100-80GB-HBM3": 4.0}, CpuCoreHour: 0.04,
			Models: []string{"NVIDIA-H100-80GB-HBM3"}},
	}
}

// benchNodes: the N-node candidate set, deterministic per index: site i%8, a model of the
// site, 1/2/4/8 GPUs, every 97th node cordoned.
func benchNodes(n int) []snapNode {
	ss := sites()[:8]
	counts := []int{8, 4, 2, 1, 8, 4}
	out := make([]snapNode, n)
	for i := 0; i < n; i++ {
		s := ss[i%len(ss)]
		model := s.Models[(i/len(ss))%len(s.Models)]
		out[i] = snapNode{Name: fmt.Sprintf("gpu-%05d", i), Site: s.Name, GpuModel: model,
			GpuMemoryMiB: gpuMemoryMiB[model], GpuTotal: counts[(i/7)%len(counts)], Cordoned: i%97 == 96}
	}
	return out
}

func burstNodes(n int) []snapNode {
	out := make([]snapNode, n)
	for i := range out {
		out[i] = snapNode{Name: fmt.Sprintf("burst-%04d", i), Site: burstSite, GpuModel: "NVIDIA-H100-80GB-HBM3",
			GpuMemoryMiB: gpuMemoryMiB["NVIDIA-H100-80GB-HBM3"], GpuTotal: 8}
	}
	return out
}

func nodeObject(n snapNode) map[string]interface{} {
	gpus := strconv.Itoa(n.GpuTotal)
	res := map[string]string{"cpu": "64", "memory": "512Gi", "pods": "110", "ephemeral-storage": "1Ti", "nvidia.com/gpu": gpus}
	obj := map[string]interface{}{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]interface{}{"name": n.Name, "labels": map[string]string{
			"kubernetes.io/hostname": n.Name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			"node.kubernetes.io/instance-type": "gpu-" + gpus, "aidi.dev/site": n.Site,
			"nvidia.com/gpu.product": n.GpuModel, "nvidia.com/gpu.memory": strconv.FormatInt(n.GpuMemoryMiB, 10),
			"nvidia.com/gpu.count": gpus, "nvidia.com/gpu.present": "true",
		}},
		"spec": map[string]interface{}{"unschedulable": n.Cordoned},
		"status": map[string]interface{}{
			"capacity": res, "allocatable": res,
			"conditions": []map[string]string{
				{"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
				{"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"},
				{"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID"},
				{"type": "Ready", "status": "True", "reason": "KubeletReady"}},
			"nodeInfo": map[string]string{"kubeletVersion": "v1.32.4", "containerRuntimeVersion": "containerd://1.7.22",
				"osImage": "Ubuntu 22.04.4 LTS", "kernelVersion": "5.15.0-113-generic", "architecture": "amd64", "operatingSystem": "linux"},
		},
	}
	return obj
}

func siteObject(s site) map[string]interface{} {
	spec := map[string]interface{}{
		"type":     s.Type,
		"location": map[string]string{"region": s.Region},
		"link":     map[string]interface{}{"latencyMs": int(s.LatencyMs), "bandwidthMbps": s.BandwidthMbps, "egressCostPerGB": s.EgressCostPerGB},
		"cost":     map[string]interface{}{"gpuHour": s.GpuHour, "cpuCoreHour": s.CpuCoreHour, "currency": "USD"},
	}
	if s.Maintenance {
		spec["maintenance"] = true
	}
	return map[string]interface{}{"apiVersion": "aidi.dev/v1alpha1", "kind": "EdgeSite",
		"metadata": map[string]interface{}{"name": s.Name}, "spec": spec}
}

// ---------------------------------------------------------------------------------------------
// The API server client (net/http; aidi-devcluster's kubeconfig: server, CA data, token)

type kube struct {
	server string
	token  string
	http   *http.Client
}

func loadKubeconfig(path string) (*kube, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k := &kube{}
	var ca []byte
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if v, ok := cut(line, "server:"); ok {
			k.server = v
		} else if v, ok := cut(line, "token:"); ok {
			k.token = v
		} else if v, ok := cut(line, "certificate-authority-data:"); ok {
			if ca, err = base64.StdEncoding.DecodeString(v); err != nil {
				return nil, err
			}
		}
	}
	if k.server == "" {
		return nil, fmt.Errorf("%s: no server", path)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 64}
	if ca != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	k.http = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	return k, nil
}

func cut(line, prefix string) (string, bool) {
	if !strings.HasPrefix(line, prefix) {
		return "", false
	}
	return strings.Trim(strings.TrimSpace(line[len(prefix):]), `"`), true
}

func (k *kube) do(method, path string, body interface{}) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, k.server+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := k.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func (k *kube) create(path string, obj interface{}) ([]byte, error) {
	code, data, err := k.do("POST", path, obj)
	if err != nil {
		return nil, err
	}
	if code != 201 && code != 200 && code != 409 {
		return nil, fmt.Errorf("POST %s: %d %s", path, code, truncate(data))
	}
	return data, nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// parallel runs f(i) for i in [0, n) on `workers` goroutines; the first error wins.
func parallel(n, workers int, f func(i int) error) error {
	var next int64 = -1
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func setup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	kc := fs.String("kubeconfig", "", "kubeconfig of the API server")
	nodes := fs.Int("nodes", 5000, "benchmark nodes (gpu-NNNNN)")
	burst := fs.Int("burst-nodes", 1000, "burst nodes (burst-NNNN, 8 GPUs each)")
	snapshot := fs.String("snapshot", "", "write the anchor's snapshot here")
	workers := fs.Int("workers", 4, "concurrent creates")
	fs.Parse(args)
	k, err := loadKubeconfig(*kc)
	if err != nil {
		return err
	}
	start := time.Now()
	for _, s := range sites() {
		if _, err := k.create("/apis/aidi.dev/v1alpha1/edgesites", siteObject(s)); err != nil {
			return err
		}
	}
	all := append(benchNodes(*nodes), burstNodes(*burst)...)
	if err := parallel(len(all), *workers, func(i int) error {
		_, err := k.create("/api/v1/nodes", nodeObject(all[i]))
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "loadgen: created %d EdgeSites and %d Nodes in %.1f s\n", len(sites()), len(all), time.Since(start).Seconds())
	snap := map[string]interface{}{"sites": sites(), "nodes": all}
	data, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	return os.WriteFile(*snapshot, data, 0o644)
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client for the extender

type conn struct {
	c    net.Conn
	r    *bufio.Reader
	wbuf []byte
	body []byte
	host string
}

func dial(base string) (*conn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	c.(*net.TCPConn).SetNoDelay(true)
	return &conn{c: c, r: bufio.NewReaderSize(c, 256<<10), host: u.Host}, nil
}

// do sends one request and reads the whole answer into c.body (reused; valid until the next
// call).
func (c *conn) do(method, path string, body []byte) (int, []byte, error) {
	w := c.wbuf[:0]
	w = append(w, method...)
	w = append(w, ' ')
	w = append(w, path...)
	w = append(w, " HTTP/1.1\r\nHost: "...)
	w = append(w, c.host...)
	w = append(w, "\r\nUser-Agent: Go-http-client/1.1\r\nAccept: application/json\r\n"...)
	if body != nil {
		w = append(w, "Content-Type: application/json\r\nContent-Length: "...)
		w = strconv.AppendInt(w, int64(len(body)), 10)
		w = append(w, "\r\n"...)
	}
	w = append(w, "\r\n"...)
	w = append(w, body...)
	c.wbuf = w
	if _, err := c.c.Write(w); err != nil {
		return 0, nil, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		if len(h) <= 2 {
			break
		}
		colon := bytes.IndexByte(h, ':')
		if colon < 0 {
			continue
		}
		name := string(bytes.ToLower(h[:colon]))
		value := string(bytes.TrimSpace(h[colon+1:]))
		switch name {
		case "content-length":
			length, _ = strconv.Atoi(value)
		case "transfer-encoding":
			chunked = strings.Contains(strings.ToLower(value), "chunked")
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		for {
			h, err := c.r.ReadSlice('\n')
			if err != nil {
				return 0, nil, err
			}
			s := strings.TrimSpace(string(h))
			if i := strings.IndexByte(s, ';'); i >= 0 {
				s = s[:i]
			}
			n, err := strconv.ParseInt(s, 16, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("bad chunk size %q", h)
			}
			if n == 0 {
				for { // trailers
					t, err := c.r.ReadSlice('\n')
					if err != nil {
						return 0, nil, err
					}
					if len(t) <= 2 {
						break
					}
				}
				break
			}
			c.body = grow(c.body, int(n))
			if _, err := io.ReadFull(c.r, c.body[len(c.body)-int(n):]); err != nil {
				return 0, nil, err
			}
			if _, err := c.r.Discard(2); err != nil {
				return 0, nil, err
			}
		}
	case length >= 0:
		c.body = grow(c.body, length)
		if _, err := io.ReadFull(c.r, c.body); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, errors.New("answer without Content-Length or chunked encoding")
	}
	return status, c.body, nil
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// ---------------------------------------------------------------------------------------------
// ExtenderArgs

type filterResult struct {
	NodeNames                  *[]string
	FailedNodes                map[string]string
	FailedAndUnresolvableNodes map[string]string
	Error                      string
}

type hostPriority struct {
	Host  string
	Score int64
}

const benchDemand = `{"workGpuSeconds":7200,"inputBytes":20000000000,"inputSite":"edge-munich","gpuMemoryGiB":20,"maxLatencyMs":100,"objective":"Balanced"}`

// stagePod: a stage pod as the operator creates it and kube-scheduler's informer holds it
// (managedFields stripped), about 3 KB of JSON.
func stagePod(ns, name, uid, demand string, gpus int) map[string]interface{} {
	g := strconv.Itoa(gpus)
	return map[string]interface{}{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]interface{}{
			"name": name, "namespace": ns, "uid": uid, "resourceVersion": "184467",
			"creationTimestamp": "2026-11-28T01:00:00Z",
			"labels": map[string]string{"aidi.dev/pipeline": "churn-model", "aidi.dev/stage": "train",
				"app.kubernetes.io/managed-by": "aidi-operator", "app.kubernetes.io/part-of": "aidi"},
			"annotations": map[string]string{"aidi.dev/demand": demand, "aidi.dev/attempt": "1"},
			"ownerReferences": []map[string]interface{}{{"apiVersion": "aidi.dev/v1alpha1", "kind": "Pipeline",
				"name": "churn-model", "uid": "5f0c1a52-0d7e-4c39-9a4f-2b1e1c8e9d10", "controller": true, "blockOwnerDeletion": true}},
		},
		"spec": map[string]interface{}{
			"containers": []map[string]interface{}{{
				"name": "stage", "image": "ghcr.io/aidi/aidi-worker:0.1.0", "imagePullPolicy": "IfNotPresent",
				"command": []string{"aidi-worker", "run"},
				"args": []string{"--op", "train", "--params", `{"model":"xgboost","target":"churned","rounds":200}`,
					"--input", "/workspace/churn-model/features", "--output", "/workspace/churn-model/model", "--device", "auto"},
				"env": []map[string]string{{"name": "AIDI_PIPELINE", "value": "churn-model"}, {"name": "AIDI_STAGE", "value": "train"},
					{"name": "AIDI_ATTEMPT", "value": "1"}},
				"resources": map[string]interface{}{
					"requests": map[string]string{"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": g},
					"limits":   map[string]string{"memory": "16Gi", "nvidia.com/gpu": g}},
				"volumeMounts": []map[string]interface{}{{"name": "workspace", "mountPath": "/workspace"},
					{"name": "kube-api-access-7x2lq", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}},
				"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
			}},
			"volumes": []map[string]interface{}{
				{"name": "workspace", "persistentVolumeClaim": map[string]string{"claimName": "aidi-workspace"}},
				{"name": "kube-api-access-7x2lq", "projected": map[string]interface{}{"defaultMode": 420, "sources": []map[string]interface{}{
					{"serviceAccountToken": map[string]interface{}{"expirationSeconds": 3607, "path": "token"}},
					{"configMap": map[string]interface{}{"name": "kube-root-ca.crt", "items": []map[string]string{{"key": "ca.crt", "path": "ca.crt"}}}}}}}},
			"restartPolicy": "Never", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
			"serviceAccountName": "default", "serviceAccount": "default", "securityContext": map[string]interface{}{},
			"schedulerName": "aidi-scheduler", "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
			"tolerations": []map[string]interface{}{
				{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
				{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
				{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}},
		},
		"status": map[string]interface{}{"phase": "Pending", "qosClass": "Burstable"},
	}
}

// extenderArgs: json.Marshal(extenderv1.ExtenderArgs{Pod: pod, NodeNames: &names}).
func extenderArgs(pod interface{}, names []string) []byte {
	b, err := json.Marshal(struct {
		Pod       interface{}
		Nodes     interface{}
		NodeNames []string
	}{pod, nil, names})
	if err != nil {
		panic(err)
	}
	return b
}

// ---------------------------------------------------------------------------------------------
// bench

type histogram struct {
	Buckets map[float64]float64 // le -> cumulative count
	Sum     float64
	Count   float64
}

// scrape reads aidi_extender_request_duration_seconds per verb from /metrics; nil when absent.
func scrape(base string) map[string]*histogram {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil
	}
	out := map[string]*histogram{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	const metric = "aidi_extender_request_duration_seconds"
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric) {
			continue
		}
		rest := line[len(metric):]
		kind := ""
		switch {
		case strings.HasPrefix(rest, "_bucket"):
			kind = "bucket"
		case strings.HasPrefix(rest, "_sum"):
			kind = "sum"
		case strings.HasPrefix(rest, "_count"):
			kind = "count"
		default:
			continue
		}
		labels := map[string]string{}
		if i := strings.IndexByte(rest, '{'); i >= 0 {
			j := strings.LastIndexByte(rest, '}')
			for _, kv := range strings.Split(rest[i+1:j], ",") {
				if p := strings.SplitN(kv, "=", 2); len(p) == 2 {
					labels[strings.TrimSpace(p[0])] = strings.Trim(p[1], `"`)
				}
			}
		}
		fields := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		verb := labels["verb"]
		h := out[verb]
		if h == nil {
			h = &histogram{Buckets: map[float64]float64{}}
			out[verb] = h
		}
		switch kind {
		case "bucket":
			le, err := strconv.ParseFloat(labels["le"], 64)
			if labels["le"] == "+Inf" {
				le, err = math.Inf(1), nil
			}
			if err == nil {
				h.Buckets[le] += v
			}
		case "sum":
			h.Sum += v
		case "count":
			h.Count += v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

type serverTime struct {
	Count  float64 `json:"count"`
	MeanUs float64 `json:"mean_us"`
	// histogram_quantile-style estimates (linear within the bucket) and the bucket bound that
	// holds the quantile.
	P50Us      float64 `json:"p50_us"`
	P99Us      float64 `json:"p99_us"`
	P99BoundUs float64 `json:"p99_bucket_le_us"`
	P99LowerUs float64 `json:"p99_bucket_above_us"`
}

func diffHistogram(before, after *histogram) serverTime {
	var les []float64
	for le := range after.Buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	cum := make([]float64, len(les))
	for i, le := range les {
		cum[i] = after.Buckets[le]
		if before != nil {
			cum[i] -= before.Buckets[le]
		}
	}
	st := serverTime{Count: after.Count, MeanUs: 0}
	sum := after.Sum
	if before != nil {
		st.Count -= before.Count
		sum -= before.Sum
	}
	if st.Count > 0 {
		st.MeanUs = sum / st.Count * 1e6
	}
	q := func(p float64) (float64, float64, float64) {
		if len(les) == 0 || st.Count == 0 {
			return 0, 0, 0
		}
		rank := p * st.Count
		prevLe, prevCum := 0.0, 0.0
		for i, le := range les {
			if cum[i] >= rank {
				if math.IsInf(le, 1) {
					return prevLe * 1e6, le, prevLe * 1e6
				}
				frac := 0.0
				if cum[i] > prevCum {
					frac = (rank - prevCum) / (cum[i] - prevCum)
				}
				return (prevLe + (le-prevLe)*frac) * 1e6, le * 1e6, prevLe * 1e6
			}
			prevLe, prevCum = le, cum[i]
		}
		return prevLe * 1e6, prevLe * 1e6, prevLe * 1e6
	}
	st.P50Us, _, _ = q(0.5)
	st.P99Us, st.P99BoundUs, st.P99LowerUs = q(0.99)
	if math.IsInf(st.P99BoundUs, 1) {
		st.P99BoundUs = -1
	}
	return st
}

type phaseResult struct {
	Clients     int                   `json:"clients"`
	Pairs       int                   `json:"pairs"`
	Seconds     float64               `json:"seconds"`
	PairsPerSec float64               `json:"pairs_per_second"`
	PairUs      map[string]float64    `json:"pair_us"`
	FilterUs    map[string]float64    `json:"filter_us"`
	PrioUs      map[string]float64    `json:"prioritize_us"`
	ServerTime  map[string]serverTime `json:"server_time,omitempty"`
	CPUSeconds  float64               `json:"server_cpu_seconds,omitempty"`
}

type benchResult struct {
	URL        string             `json:"url"`
	Nodes      int                `json:"nodes"`
	FilterReq  int                `json:"filter_request_bytes"`
	FilterResp int                `json:"filter_response_bytes"`
	PrioReq    int                `json:"prioritize_request_bytes"`
	PrioResp   int                `json:"prioritize_response_bytes"`
	Passed     int                `json:"passed"`
	Failed     int                `json:"failed"`
	Unresolv   int                `json:"unresolvable"`
	Scores     map[string]int64   `json:"scores"`
	HealthzUs  map[string]float64 `json:"healthz_us"`
	Phases     []phaseResult      `json:"phases"`
}

func percentiles(xs []float64) map[string]float64 {
	if len(xs) == 0 {
		return nil
	}
	sort.Float64s(xs)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(xs)))) - 1
		if i < 0 {
			i = 0
		}
		return xs[i]
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return map[string]float64{"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": xs[len(xs)-1], "mean": sum / float64(len(xs))}
}

func procCPU(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100 // USER_HZ
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	base := fs.String("url", "", "the extender's base URL")
	n := fs.Int("nodes", 1000, "candidate nodes (the first N gpu-NNNNN)")
	clientsList := fs.String("clients", "1,4", "concurrent connections per phase")
	seconds := fs.Float64("seconds", 3, "duration of each phase")
	maxPairs := fs.Int("max-pairs", 20000, "stop a phase after this many pairs")
	warmup := fs.Int("warmup", 50, "untimed pairs first")
	pid := fs.Int("pid", 0, "server pid (for its CPU time)")
	out := fs.String("out", "", "write the JSON result here (else stdout)")
	fs.Parse(args)

	names := make([]string, *n)
	for i, nd := range benchNodes(*n) {
		names[i] = nd.Name
	}
	pod := stagePod("aidi-demo", "churn-model-train-1", "0b6f8c9e-3c1d-4f7a-9e21-6a8d5b4c3f20", benchDemand, 1)
	filterBody := extenderArgs(pod, names)

	c, err := dial(*base)
	if err != nil {
		return err
	}
	res := benchResult{URL: *base, Nodes: *n, FilterReq: len(filterBody)}
	code, body, err := c.do("POST", "/filter", filterBody)
	if err != nil || code != 200 {
		return fmt.Errorf("filter: %d %v %s", code, err, truncate(body))
	}
	res.FilterResp = len(body)
	var fr filterResult
	if err := json.Unmarshal(body, &fr); err != nil {
		return fmt.Errorf("filter answer: %v", err)
	}
	if fr.Error != "" || fr.NodeNames == nil {
		return fmt.Errorf("filter answer: Error %q, NodeNames %v", fr.Error, fr.NodeNames)
	}
	res.Passed, res.Failed, res.Unresolv = len(*fr.NodeNames), len(fr.FailedNodes), len(fr.FailedAndUnresolvableNodes)
	prioBody := extenderArgs(pod, *fr.NodeNames)
	res.PrioReq = len(prioBody)
	code, body, err = c.do("POST", "/prioritize", prioBody)
	if err != nil || code != 200 {
		return fmt.Errorf("prioritize: %d %v %s", code, err, truncate(body))
	}
	res.PrioResp = len(body)
	var hp []hostPriority
	if err := json.Unmarshal(body, &hp); err != nil {
		return fmt.Errorf("prioritize answer: %v", err)
	}
	res.Scores = map[string]int64{}
	for _, h := range hp {
		res.Scores[h.Host] = h.Score
	}
	// The loopback + HTTP floor: GET /healthz round trips.
	var hz []float64
	for i := 0; i < 500; i++ {
		t := time.Now()
		if code, _, err := c.do("GET", "/healthz", nil); err != nil || code != 200 {
			return fmt.Errorf("healthz: %d %v", code, err)
		}
		hz = append(hz, float64(time.Since(t).Nanoseconds())/1e3)
	}
	res.HealthzUs = percentiles(hz)
	c.c.Close()

	for _, cs := range strings.Split(*clientsList, ",") {
		clients, _ := strconv.Atoi(cs)
		conns := make([]*conn, clients)
		for i := range conns {
			if conns[i], err = dial(*base); err != nil {
				return err
			}
			for j := 0; j < *warmup/clients+1; j++ {
				conns[i].do("POST", "/filter", filterBody)
				conns[i].do("POST", "/prioritize", prioBody)
			}
		}
		before := scrape(*base)
		cpu0 := procCPU(*pid)
		var mu sync.Mutex
		var pairs, filters, prios []float64
		var total int64
		var firstErr error
		deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
		start := time.Now()
		var wg sync.WaitGroup
		for _, cn := range conns {
			wg.Add(1)
			go func(cn *conn) {
				defer wg.Done()
				var p, f, q []float64
				for time.Now().Before(deadline) && atomic.AddInt64(&total, 1) <= int64(*maxPairs) {
					t0 := time.Now()
					code, _, err := cn.do("POST", "/filter", filterBody)
					t1 := time.Now()
					if err == nil && code == 200 {
						code, _, err = cn.do("POST", "/prioritize", prioBody)
					}
					t2 := time.Now()
					if err != nil || code != 200 {
						mu.Lock()
						firstErr = fmt.Errorf("request: %d %v", code, err)
						mu.Unlock()
						return
					}
					p = append(p, float64(t2.Sub(t0).Nanoseconds())/1e3)
					f = append(f, float64(t1.Sub(t0).Nanoseconds())/1e3)
					q = append(q, float64(t2.Sub(t1).Nanoseconds())/1e3)
				}
				mu.Lock()
				pairs, filters, prios = append(pairs, p...), append(filters, f...), append(prios, q...)
				mu.Unlock()
			}(cn)
		}
		wg.Wait()
		elapsed := time.Since(start).Seconds()
		cpu1 := procCPU(*pid)
		after := scrape(*base)
		for _, cn := range conns {
			cn.c.Close()
		}
		if firstErr != nil {
			return firstErr
		}
		ph := phaseResult{Clients: clients, Pairs: len(pairs), Seconds: elapsed, PairsPerSec: float64(len(pairs)) / elapsed,
			PairUs: percentiles(pairs), FilterUs: percentiles(filters), PrioUs: percentiles(prios), CPUSeconds: cpu1 - cpu0}
		if after != nil {
			ph.ServerTime = map[string]serverTime{}
			for verb, h := range after {
				if verb == "filter" || verb == "prioritize" {
					var b *histogram
					if before != nil {
						b = before[verb]
					}
					ph.ServerTime[verb] = diffHistogram(b, h)
				}
			}
		}
		res.Phases = append(res.Phases, ph)
		fmt.Fprintf(os.Stderr, "loadgen: %s N=%d C=%d: %d pairs in %.1f s (%.0f/s), pair p50 %.0f µs p99 %.0f µs\n",
			*base, *n, clients, len(pairs), elapsed, ph.PairsPerSec, ph.PairUs["p50"], ph.PairUs["p99"])
	}
	return writeJSON(*out, res)
}

func writeJSON(path string, v interface{}) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	if path == "" {
		_, err = os.Stdout.Write(append(data, '\n'))
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// ---------------------------------------------------------------------------------------------
// burst

type burstResult struct {
	Pods            int                `json:"pods"`
	Nodes           int                `json:"nodes"`
	GpusPerNode     int                `json:"gpus_per_node"`
	Clients         int                `json:"clients"`
	CreateSeconds   float64            `json:"create_seconds"`
	Rounds          []burstRound       `json:"rounds"`
	BindCalls       int                `json:"bind_calls"`
	BindOK          int                `json:"bind_ok"`
	BindRefused     int                `json:"bind_refused"`
	BindHTTPErrors  int                `json:"bind_http_errors"`
	RefusalSamples  []string           `json:"refusal_samples"`
	BindUs          map[string]float64 `json:"bind_us"`
	PodsBound       int                `json:"pods_bound_api"`
	GpusBound       int                `json:"gpus_bound_api"`
	GpusAllocatable int                `json:"gpus_allocatable"`
	OverAllocated   int                `json:"over_allocated_gpus"`
	NodesOver       int                `json:"nodes_over_allocated"`
	WithPlacement   int                `json:"bound_with_placement_annotation"`
	BoundOutsideSet int                `json:"bound_outside_burst_nodes"`
	ScheduleSeconds float64            `json:"schedule_seconds"`
}

type burstRound struct {
	Round   int     `json:"round"`
	Pods    int     `json:"pods"`
	Forced  int     `json:"forced_binds"` // no node passed the filter: bound round-robin to force a refusal
	OK      int     `json:"ok"`
	Refused int     `json:"refused"`
	Seconds float64 `json:"seconds"`
}

func burst(args []string) error {
	fs := flag.NewFlagSet("burst", flag.ExitOnError)
	kc := fs.String("kubeconfig", "", "kubeconfig of the API server")
	base := fs.String("url", "", "the extender's base URL")
	npods := fs.Int("pods", 10000, "pods, 1 GPU each")
	nnodes := fs.Int("nodes", 1000, "burst nodes (burst-NNNN, as setup created them)")
	clients := fs.Int("clients", 16, "concurrent workers (each: filter, prioritize, bind)")
	rounds := fs.Int("rounds", 3, "rounds: refused pods go through filter + prioritize + bind again")
	out := fs.String("out", "", "write the JSON result here")
	fs.Parse(args)
	k, err := loadKubeconfig(*kc)
	if err != nil {
		return err
	}
	const ns = "burst"
	if _, err := k.create("/api/v1/namespaces", map[string]interface{}{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]string{"name": ns}}); err != nil {
		return err
	}
	res := burstResult{Pods: *npods, Nodes: *nnodes, GpusPerNode: 8, Clients: *clients}
	demand := `{"workGpuSeconds":600,"sites":["` + burstSite + `"],"objective":"MinCost"}`
	pods := make([]map[string]interface{}, *npods)
	start := time.Now()
	if err := parallel(*npods, 8, func(i int) error {
		p := stagePod(ns, fmt.Sprintf("burst-%05d", i), "", demand, 1)
		md := p["metadata"].(map[string]interface{})
		delete(md, "uid")
		delete(md, "resourceVersion")
		delete(md, "creationTimestamp")
		delete(md, "ownerReferences") // no such Pipeline here: the garbage collector would delete the pods
		delete(p, "status")
		code, data, err := k.do("POST", "/api/v1/namespaces/"+ns+"/pods", p)
		if err != nil {
			return err
		}
		if code != 201 {
			return fmt.Errorf("creating pod %d: %d %s (start from an empty namespace %s)", i, code, truncate(data), ns)
		}
		var created map[string]interface{}
		if err := json.Unmarshal(data, &created); err != nil {
			return err
		}
		delete(created["metadata"].(map[string]interface{}), "managedFields")
		pods[i] = created
		return nil
	}); err != nil {
		return err
	}
	res.CreateSeconds = time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "loadgen: created %d pods in %.1f s\n", *npods, res.CreateSeconds)
	time.Sleep(2 * time.Second) // let the extender's pod watch catch up (it is not required: bind GETs the pod)

	names := make([]string, *nnodes)
	for i, nd := range burstNodes(*nnodes) {
		names[i] = nd.Name
	}
	pending := make([]int, *npods)
	for i := range pending {
		pending[i] = i
	}
	var bindMu sync.Mutex
	var bindUs []float64
	var rr int64
	schedStart := time.Now()
	for round := 1; round <= *rounds && len(pending) > 0; round++ {
		rs := burstRound{Round: round, Pods: len(pending)}
		var refused []int
		var mu sync.Mutex
		t := time.Now()
		conns := make(chan *conn, *clients)
		for i := 0; i < *clients; i++ {
			c, err := dial(*base)
			if err != nil {
				return err
			}
			conns <- c
		}
		err := parallel(len(pending), *clients, func(j int) error {
			c := <-conns
			defer func() { conns <- c }()
			i := pending[j]
			pod := pods[i]
			code, body, err := c.do("POST", "/filter", extenderArgs(pod, names))
			if err != nil || code != 200 {
				return fmt.Errorf("filter: %d %v %s", code, err, truncate(body))
			}
			var fr filterResult
			if err := json.Unmarshal(body, &fr); err != nil {
				return err
			}
			target, forced := "", false
			if fr.NodeNames != nil && len(*fr.NodeNames) > 0 {
				code, body, err = c.do("POST", "/prioritize", extenderArgs(pod, *fr.NodeNames))
				if err != nil || code != 200 {
					return fmt.Errorf("prioritize: %d %v %s", code, err, truncate(body))
				}
				var hp []hostPriority
				if err := json.Unmarshal(body, &hp); err != nil {
					return err
				}
				best := int64(-1)
				for _, h := range hp {
					if h.Score > best {
						best, target = h.Score, h.Host
					}
				}
			}
			if target == "" { // nothing fits: bind anyway, round-robin over 8 nodes, to force a refusal
				forced = true
				target = names[int(atomic.AddInt64(&rr, 1))%8]
			}
			md := pod["metadata"].(map[string]interface{})
			bind, _ := json.Marshal(map[string]string{"PodName": md["name"].(string), "PodNamespace": ns,
				"PodUID": md["uid"].(string), "Node": target})
			t0 := time.Now()
			code, body, err = c.do("POST", "/bind", bind)
			us := float64(time.Since(t0).Nanoseconds()) / 1e3
			if err != nil {
				return fmt.Errorf("bind: %v", err)
			}
			var br struct{ Error string }
			json.Unmarshal(body, &br)
			mu.Lock()
			defer mu.Unlock()
			bindMu.Lock()
			bindUs = append(bindUs, us)
			bindMu.Unlock()
			res.BindCalls++
			if forced {
				rs.Forced++
			}
			switch {
			case code == 200 && br.Error == "":
				rs.OK++
				res.BindOK++
			case code == 200:
				rs.Refused++
				res.BindRefused++
				refused = append(refused, i)
				if len(res.RefusalSamples) < 3 {
					res.RefusalSamples = append(res.RefusalSamples, br.Error)
				}
			default:
				res.BindHTTPErrors++
				refused = append(refused, i)
				if len(res.RefusalSamples) < 3 {
					res.RefusalSamples = append(res.RefusalSamples, fmt.Sprintf("HTTP %d %s", code, truncate(body)))
				}
			}
			return nil
		})
		close(conns)
		for c := range conns {
			c.c.Close()
		}
		if err != nil {
			return err
		}
		rs.Seconds = time.Since(t).Seconds()
		res.Rounds = append(res.Rounds, rs)
		fmt.Fprintf(os.Stderr, "loadgen: burst round %d: %d pods, %d bound, %d refused (%d forced), %.1f s\n",
			round, rs.Pods, rs.OK, rs.Refused, rs.Forced, rs.Seconds)
		sort.Ints(refused)
		pending = refused
	}
	res.ScheduleSeconds = time.Since(schedStart).Seconds()
	res.BindUs = percentiles(bindUs)

	// Count over the API: GPUs requested by the pods bound to each node vs its allocatable.
	time.Sleep(500 * time.Millisecond)
	if err := countBound(k, ns, names, &res); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "loadgen: burst: %d pods bound holding %d GPUs of %d; over-allocated GPUs: %d\n",
		res.PodsBound, res.GpusBound, res.GpusAllocatable, res.OverAllocated)
	return writeJSON(*out, res)
}

// list pages through a collection (limit 500) and calls f per item.
func list(k *kube, path string, f func(map[string]interface{})) error {
	cont := ""
	for {
		p := path + "?limit=500"
		if cont != "" {
			p += "&continue=" + url.QueryEscape(cont)
		}
		code, data, err := k.do("GET", p, nil)
		if err != nil {
			return err
		}
		if code != 200 {
			return fmt.Errorf("GET %s: %d %s", p, code, truncate(data))
		}
		var l struct {
			Metadata struct {
				Continue string `json:"continue"`
			} `json:"metadata"`
			Items []map[string]interface{} `json:"items"`
		}
		if err := json.Unmarshal(data, &l); err != nil {
			return err
		}
		for _, it := range l.Items {
			f(it)
		}
		if l.Metadata.Continue == "" {
			return nil
		}
		cont = l.Metadata.Continue
	}
}

// countBound counts over the API the GPUs that pods in ns bound to each node request, against
// the node's allocatable.
func countBound(k *kube, ns string, names []string, res *burstResult) error {
	alloc := map[string]int{}
	if err := list(k, "/api/v1/nodes", func(item map[string]interface{}) {
		md := item["metadata"].(map[string]interface{})
		st, _ := item["status"].(map[string]interface{})
		a, _ := st["allocatable"].(map[string]interface{})
		if g, ok := a["nvidia.com/gpu"].(string); ok {
			n, _ := strconv.Atoi(g)
			alloc[md["name"].(string)] = n
		}
	}); err != nil {
		return err
	}
	used := map[string]int{}
	if err := list(k, "/api/v1/namespaces/"+ns+"/pods", func(item map[string]interface{}) {
		spec := item["spec"].(map[string]interface{})
		node, _ := spec["nodeName"].(string)
		if node == "" {
			return
		}
		res.PodsBound++
		md := item["metadata"].(map[string]interface{})
		if ann, ok := md["annotations"].(map[string]interface{}); ok {
			if _, ok := ann["aidi.dev/placement"]; ok {
				res.WithPlacement++
			}
		}
		g := 0
		for _, c := range spec["containers"].([]interface{}) {
			r, _ := c.(map[string]interface{})["resources"].(map[string]interface{})
			req, _ := r["requests"].(map[string]interface{})
			if s, ok := req["nvidia.com/gpu"].(string); ok {
				n, _ := strconv.Atoi(s)
				g += n
			}
		}
		used[node] += g
		res.GpusBound += g
	}); err != nil {
		return err
	}
	for _, name := range names {
		res.GpusAllocatable += alloc[name]
	}
	for node, u := range used {
		if !strings.HasPrefix(node, "burst-") {
			res.BoundOutsideSet++
		}
		if over := u - alloc[node]; over > 0 {
			res.OverAllocated += over
			res.NodesOver++
		}
	}
	return nil
}

// count: the final check of burst on its own (loadgen count --kubeconfig F --namespace burst).
func count(args []string) error {
	fs := flag.NewFlagSet("count", flag.ExitOnError)
	kc := fs.String("kubeconfig", "", "kubeconfig of the API server")
	ns := fs.String("namespace", "burst", "namespace of the pods")
	nnodes := fs.Int("nodes", 1000, "burst nodes")
	fs.Parse(args)
	k, err := loadKubeconfig(*kc)
	if err != nil {
		return err
	}
	var names []string
	for _, nd := range burstNodes(*nnodes) {
		names = append(names, nd.Name)
	}
	var res burstResult
	if err := countBound(k, *ns, names, &res); err != nil {
		return err
	}
	return writeJSON("", res)
}
