// Command anchor is the benchmark anchor for aidi-scheduler-extender: the plain Go scheduler
// extender a competent Kubernetes user would write instead, with net/http and encoding/json
// only (Go's standard library; Debian's golang-go builds it).
//
// It serves kube-scheduler's extender verbs POST /filter and POST /prioritize
// (k8s.io/kube-scheduler/extender/v1 wire types, declared here as upstream declares them: no
// json tags, so the field names on the wire are the Go names) and GET /healthz. It keeps its
// own node table, loaded once at start from a JSON snapshot (see Snapshot) instead of watching
// the API server, and runs the same filter and cost scoring as costmodel/README.md describes:
//
//   - filter, first failure wins: maintenance (node or site), site not allowed, link latency
//     above maxLatencyMs, GPU model mismatch, too few GPUs in total, GPU memory below 0.93 x
//     gpuMemoryGiB, too few GPUs free. All but the last are unresolvable.
//   - estimates: transfer seconds over the narrower link plus the links' latency, egress money,
//     compute seconds work / (throughput x gpus), money (gpus x price per GPU-hour + cores x
//     cpuCoreHour) x hours + egress;
//   - combined cost per objective (MinCost, MinTime, Balanced or the demand's weights), each
//     term normalised as (x - min) / max over the feasible candidates, and integer scores
//     0..10 spread linearly over the candidates.
//
// It reads the pod's aidi.dev/demand annotation (gpus defaulting to the pod's nvidia.com/gpu
// request). It is not deliberately slow: nodes are in a map, sites are parsed once, requests
// are decoded into small structs that keep only the fields it reads. What it does not do (and
// aidi-scheduler-extender does): watch Nodes, Pods and EdgeSites, account for bound pods and
// in-flight binds, bind, validate the annotation strictly, explain its choice, serve metrics.
//
//	anchor --listen 127.0.0.1:PORT --snapshot FILE
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ---- k8s.io/kube-scheduler/extender/v1 (no json tags, as upstream) ----

type ExtenderArgs struct {
	Pod       *Pod
	Nodes     *NodeList
	NodeNames *[]string
}

type FailedNodesMap map[string]string

type ExtenderFilterResult struct {
	Nodes                      *NodeList
	NodeNames                  *[]string
	FailedNodes                FailedNodesMap
	FailedAndUnresolvableNodes FailedNodesMap
	Error                      string
}

type HostPriority struct {
	Host  string
	Score int64
}

type HostPriorityList []HostPriority

// ---- the parts of k8s.io/api/core/v1 the extender reads (json tags as upstream) ----

type ObjectMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	UID         string            `json:"uid,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type ResourceRequirements struct {
	Limits   map[string]string `json:"limits,omitempty"`
	Requests map[string]string `json:"requests,omitempty"`
}

type Container struct {
	Name          string               `json:"name"`
	Resources     ResourceRequirements `json:"resources,omitempty"`
	RestartPolicy *string              `json:"restartPolicy,omitempty"`
}

type PodSpec struct {
	InitContainers []Container `json:"initContainers,omitempty"`
	Containers     []Container `json:"containers"`
	SchedulerName  string      `json:"schedulerName,omitempty"`
}

type Pod struct {
	Metadata ObjectMeta `json:"metadata,omitempty"`
	Spec     PodSpec    `json:"spec,omitempty"`
}

type Node struct {
	Metadata ObjectMeta `json:"metadata,omitempty"`
}

type NodeList struct {
	Items []Node `json:"items"`
}

// ---- the snapshot: what the extender would otherwise learn from Nodes, Pods, EdgeSites ----

type SnapshotSite struct {
	Name            string             `json:"name"`
	LatencyMs       float64            `json:"latencyMs"`
	BandwidthMbps   float64            `json:"bandwidthMbps"`
	EgressCostPerGB float64            `json:"egressCostPerGB"`
	GpuHour         map[string]float64 `json:"gpuHour"`
	CpuCoreHour     float64            `json:"cpuCoreHour"`
	Maintenance     bool               `json:"maintenance"`
}

type SnapshotNode struct {
	Name         string `json:"name"`
	Site         string `json:"site"`
	GpuModel     string `json:"gpuModel"`
	GpuMemoryMiB int64  `json:"gpuMemoryMiB"`
	GpuTotal     int    `json:"gpuTotal"`
	GpuUsed      int    `json:"gpuUsed"`
	Cordoned     bool   `json:"cordoned"`
}

type Snapshot struct {
	Sites []SnapshotSite `json:"sites"`
	Nodes []SnapshotNode `json:"nodes"`
}

// ---- the model ----

type nodeInfo struct {
	SnapshotNode
	site       *SnapshotSite // nil: the hub, or a site nobody described
	memoryGiB  float64
	throughput float64
	price      float64 // per GPU-hour
}

var throughputTable = map[string]float64{
	"NVIDIA-A100": 1.0, "NVIDIA-A100-SXM4-80GB": 1.0, "NVIDIA-A100-SXM4-40GB": 1.0,
	"NVIDIA-A100-80GB-PCIe": 0.9, "NVIDIA-A100-PCIE-40GB": 0.9, "NVIDIA-A30": 0.55,
	"NVIDIA-A10": 0.35, "NVIDIA-A10G": 0.3, "NVIDIA-H100": 2.0, "NVIDIA-H100-80GB-HBM3": 2.5,
	"NVIDIA-H100-NVL": 2.2, "NVIDIA-H100-PCIe": 2.0, "NVIDIA-H200": 2.8,
	"NVIDIA-GH200-480GB": 2.8, "NVIDIA-B200": 5.0, "NVIDIA-L40S": 0.8, "NVIDIA-L40": 0.6,
	"NVIDIA-L4": 0.3, "Tesla-T4": 0.15, "Tesla-V100": 0.4, "Tesla-V100-SXM2-16GB": 0.45,
	"Tesla-V100-SXM2-32GB": 0.45, "Tesla-P100": 0.12, "NVIDIA-RTX-A6000": 0.5,
	"NVIDIA-GeForce-RTX-4090": 0.6, "NVIDIA-GeForce-RTX-3090": 0.35, "NVIDIA-Jetson": 0.03,
	"NVIDIA-Jetson-AGX-Orin": 0.1, "NVIDIA-Jetson-Orin-NX": 0.05,
	"NVIDIA-Jetson-Orin-Nano": 0.025, "NVIDIA-Jetson-AGX-Xavier": 0.04,
}

// throughputOf: exact, then with trailing "-segments" removed, else 0.5.
func throughputOf(model string) float64 {
	for m := model; m != ""; {
		if r, ok := throughputTable[m]; ok {
			return r
		}
		i := strings.LastIndexByte(m, '-')
		if i < 0 {
			break
		}
		m = m[:i]
	}
	return 0.5
}

type Weights struct {
	Cost    float64 `json:"cost"`
	Time    float64 `json:"time"`
	Latency float64 `json:"latency"`
}

// Demand is the aidi.dev/demand annotation.
type Demand struct {
	Gpus           *int      `json:"gpus"`
	GpuModel       string    `json:"gpuModel"`
	GpuMemoryGiB   float64   `json:"gpuMemoryGiB"`
	WorkGpuSeconds float64   `json:"workGpuSeconds"`
	InputBytes     int64     `json:"inputBytes"`
	InputSite      string    `json:"inputSite"`
	Objective      string    `json:"objective"`
	Weights        *Weights  `json:"weights"`
	Sites          *[]string `json:"sites"`
	MaxLatencyMs   *float64  `json:"maxLatencyMs"`
}

type estimate struct {
	feasible     bool
	unresolvable bool
	reason       string
	money        float64
	finish       float64
	latency      float64
	score        int64
}

type Extender struct {
	mu    sync.RWMutex
	nodes map[string]*nodeInfo
	sites map[string]*SnapshotSite
}

func NewExtender(s *Snapshot) *Extender {
	e := &Extender{nodes: make(map[string]*nodeInfo, len(s.Nodes)), sites: make(map[string]*SnapshotSite)}
	for i := range s.Sites {
		e.sites[s.Sites[i].Name] = &s.Sites[i]
	}
	for _, n := range s.Nodes {
		info := &nodeInfo{SnapshotNode: n, site: e.sites[n.Site]}
		info.memoryGiB = float64(n.GpuMemoryMiB) / 1024
		info.throughput = throughputOf(n.GpuModel)
		if info.site != nil {
			info.price = info.site.GpuHour[n.GpuModel]
		}
		e.nodes[n.Name] = info
	}
	return e
}

func gpuQuantity(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func containerGpus(c *Container) int {
	if q, ok := c.Resources.Requests["nvidia.com/gpu"]; ok {
		return gpuQuantity(q)
	}
	return gpuQuantity(c.Resources.Limits["nvidia.com/gpu"])
}

// podGpus is kube-scheduler's request rule for one resource.
func podGpus(p *Pod) int {
	sum := 0
	for i := range p.Spec.Containers {
		sum += containerGpus(&p.Spec.Containers[i])
	}
	maxInit := 0
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == "Always" {
			sum += containerGpus(c)
		} else if g := containerGpus(c); g > maxInit {
			maxInit = g
		}
	}
	if maxInit > sum {
		return maxInit
	}
	return sum
}

func demandOf(p *Pod) (Demand, int, error) {
	var d Demand
	if a, ok := p.Metadata.Annotations["aidi.dev/demand"]; ok {
		if err := json.Unmarshal([]byte(a), &d); err != nil {
			return d, 0, fmt.Errorf("aidi.dev/demand: %v", err)
		}
	}
	gpus := podGpus(p)
	if d.Gpus != nil {
		gpus = *d.Gpus
	}
	return d, gpus, nil
}

func weightsOf(d *Demand) Weights {
	if w := d.Weights; w != nil && w.Cost+w.Time+w.Latency > 0 {
		return *w
	}
	switch d.Objective {
	case "MinCost":
		return Weights{1, 0.001, 0}
	case "MinTime":
		return Weights{0.001, 1, 0}
	}
	return Weights{1, 1, 0}
}

// transfer: seconds and egress money to move the input from its site to `to` via the hub.
func (e *Extender) transfer(d *Demand, to string, toSite *SnapshotSite) (float64, float64) {
	if d.InputBytes <= 0 || to == d.InputSite {
		return 0, 0
	}
	bandwidth, latency, egress := 0.0, 0.0, 0.0
	for _, l := range []*SnapshotSite{e.sites[d.InputSite], toSite} {
		if l == nil {
			continue
		}
		if l.BandwidthMbps > 0 && (bandwidth == 0 || l.BandwidthMbps < bandwidth) {
			bandwidth = l.BandwidthMbps
		}
		latency += l.LatencyMs
		egress += l.EgressCostPerGB
	}
	seconds := latency / 1000
	if bandwidth > 0 {
		seconds += float64(d.InputBytes) * 8 / (bandwidth * 1e6)
	}
	return seconds, float64(d.InputBytes) / 1e9 * egress
}

func (e *Extender) estimate(d *Demand, gpus int, name string) estimate {
	n := e.nodes[name]
	if n == nil {
		return estimate{reason: "node " + name + " is not in the extender's node table"}
	}
	var est estimate
	if n.site != nil {
		est.latency = n.site.LatencyMs
	}
	transferSeconds, egress := e.transfer(d, n.Site, n.site)
	compute := d.WorkGpuSeconds
	if gpus > 0 {
		compute = d.WorkGpuSeconds / (n.throughput * float64(gpus))
	}
	est.finish = transferSeconds + compute
	est.money = float64(gpus)*n.price*compute/3600 + egress

	switch {
	case n.Cordoned:
		est.reason = "node " + name + " is in maintenance"
	case n.site != nil && n.site.Maintenance:
		est.reason = "site " + n.Site + " is in maintenance"
	case d.Sites != nil && !contains(*d.Sites, n.Site):
		est.reason = "site " + n.Site + " is not allowed (allowed: " + strings.Join(*d.Sites, ", ") + ")"
	case d.MaxLatencyMs != nil && est.latency > *d.MaxLatencyMs:
		est.reason = fmt.Sprintf("link latency %g ms exceeds maxLatencyMs %g", est.latency, *d.MaxLatencyMs)
	case gpus > 0 && d.GpuModel != "" && n.GpuModel != d.GpuModel:
		est.reason = "GPU model " + n.GpuModel + " is not " + d.GpuModel
	case gpus > 0 && gpus > n.GpuTotal:
		est.reason = fmt.Sprintf("needs %d GPUs, node has %d", gpus, n.GpuTotal)
	case gpus > 0 && d.GpuMemoryGiB > 0 && n.memoryGiB > 0 && n.memoryGiB < 0.93*d.GpuMemoryGiB:
		est.reason = fmt.Sprintf("GPU memory %g GiB is below %g GiB", n.memoryGiB, d.GpuMemoryGiB)
	case gpus > 0 && gpus > n.GpuTotal-n.GpuUsed:
		est.reason = fmt.Sprintf("needs %d GPUs, %d free", gpus, n.GpuTotal-n.GpuUsed)
		return est // resolvable: preemption or time may help
	default:
		est.feasible = true
		return est
	}
	est.unresolvable = true
	return est
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type span struct{ min, max float64 }

func (r *span) add(v float64) {
	r.min = math.Min(r.min, v)
	r.max = math.Max(r.max, v)
}

func (r *span) norm(v float64) float64 {
	if r.max > 0 {
		return (v - r.min) / r.max
	}
	return 0
}

// score fills est[i].score: 0..10 over the feasible estimates, 10 the cheapest.
func score(w Weights, ests []estimate) {
	total := w.Cost + w.Time + w.Latency
	inf := math.Inf(1)
	money, finish, latency := span{inf, 0}, span{inf, 0}, span{inf, 0}
	for i := range ests {
		if ests[i].feasible {
			money.add(ests[i].money)
			finish.add(ests[i].finish)
			latency.add(ests[i].latency)
		}
	}
	costs := make([]float64, len(ests))
	c := span{inf, math.Inf(-1)}
	for i := range ests {
		if !ests[i].feasible {
			continue
		}
		costs[i] = (w.Cost*money.norm(ests[i].money) + w.Time*finish.norm(ests[i].finish) +
			w.Latency*latency.norm(ests[i].latency)) / total
		c.add(costs[i])
	}
	for i := range ests {
		if !ests[i].feasible {
			ests[i].score = 0
		} else if c.max-c.min <= 1e-12 {
			ests[i].score = 10
		} else {
			ests[i].score = int64(math.Round(10 * (c.max - costs[i]) / (c.max - c.min)))
		}
	}
}

func candidateNames(a *ExtenderArgs) []string {
	if a.NodeNames != nil {
		return *a.NodeNames
	}
	var names []string
	if a.Nodes != nil {
		for _, n := range a.Nodes.Items {
			names = append(names, n.Metadata.Name)
		}
	}
	return names
}

func decode(w http.ResponseWriter, r *http.Request) (*ExtenderArgs, bool) {
	var args ExtenderArgs
	if err := json.NewDecoder(r.Body).Decode(&args); err != nil || args.Pod == nil {
		http.Error(w, fmt.Sprintf("bad ExtenderArgs: %v", err), http.StatusBadRequest)
		return nil, false
	}
	return &args, true
}

func reply(w http.ResponseWriter, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("write: %v", err)
	}
}

func (e *Extender) Filter(w http.ResponseWriter, r *http.Request) {
	args, ok := decode(w, r)
	if !ok {
		return
	}
	names := candidateNames(args)
	result := ExtenderFilterResult{FailedNodes: FailedNodesMap{}, FailedAndUnresolvableNodes: FailedNodesMap{}}
	d, gpus, err := demandOf(args.Pod)
	if err != nil {
		for _, n := range names {
			result.FailedAndUnresolvableNodes[n] = err.Error()
		}
	}
	passed := make([]string, 0, len(names))
	var passedNodes []Node
	e.mu.RLock()
	for i, n := range names {
		if err != nil {
			break
		}
		est := e.estimate(&d, gpus, n)
		switch {
		case est.feasible:
			passed = append(passed, n)
			if args.NodeNames == nil {
				passedNodes = append(passedNodes, args.Nodes.Items[i])
			}
		case est.unresolvable:
			result.FailedAndUnresolvableNodes[n] = est.reason
		default:
			result.FailedNodes[n] = est.reason
		}
	}
	e.mu.RUnlock()
	if args.NodeNames != nil {
		result.NodeNames = &passed
	} else {
		result.Nodes = &NodeList{Items: passedNodes}
	}
	reply(w, &result)
}

func (e *Extender) Prioritize(w http.ResponseWriter, r *http.Request) {
	args, ok := decode(w, r)
	if !ok {
		return
	}
	names := candidateNames(args)
	list := make(HostPriorityList, len(names))
	d, gpus, err := demandOf(args.Pod)
	if err == nil {
		ests := make([]estimate, len(names))
		e.mu.RLock()
		for i, n := range names {
			ests[i] = e.estimate(&d, gpus, n)
		}
		e.mu.RUnlock()
		score(weightsOf(&d), ests)
		for i, n := range names {
			list[i] = HostPriority{Host: n, Score: ests[i].score}
		}
	} else {
		for i, n := range names {
			list[i] = HostPriority{Host: n}
		}
	}
	reply(w, list)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8888", "HOST:PORT to serve on")
	snapshot := flag.String("snapshot", "", "JSON snapshot of nodes and sites")
	flag.Parse()
	raw, err := os.ReadFile(*snapshot)
	if err != nil {
		log.Fatal(err)
	}
	var s Snapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		log.Fatalf("%s: %v", *snapshot, err)
	}
	sort.Slice(s.Sites, func(i, j int) bool { return s.Sites[i].Name < s.Sites[j].Name })
	e := NewExtender(&s)
	mux := http.NewServeMux()
	mux.HandleFunc("/filter", e.Filter)
	mux.HandleFunc("/prioritize", e.Prioritize)
	ok := func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/readyz", ok) // the snapshot is loaded before the server starts
	log.Printf("anchor: %d nodes, %d sites, serving on %s", len(s.Nodes), len(s.Sites), *listen)
	log.Fatal(http.ListenAndServe(*listen, mux))
}
