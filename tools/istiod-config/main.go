// istiod-config prints the xDS (CDS, LDS, RDS, EDS) istiod would send to each proxy of one cluster.
//
// It runs istiod's own config generator in-process -- the harness istiod's unit tests use,
// core.NewConfigGenTest -- fed with the cluster's Istio resources, the Kubernetes Services and
// endpoints the topology implies, and the mesh config. No Kubernetes, no sockets, no patch to Istio.
//
//	istiod-config < request.json > xds.json      (or: istiod-config request.json)
//
// The request and response shapes are documented in src/runner/istiod-config.ts, their one client.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"syscall"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	// Extensions src/mesh's bootstraps name that istiod's packages may not register themselves.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_cluster/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/networking/core"
	"istio.io/istio/pilot/pkg/networking/util"
	"istio.io/istio/pilot/pkg/serviceregistry/provider"
	"istio.io/istio/pilot/pkg/xds/endpoints"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config/host"
	kubeconv "istio.io/istio/pkg/config/kube"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/protocol"
	"istio.io/istio/pkg/log"
	"istio.io/istio/pkg/network"
)

// Istio-only Envoy extensions upstream Envoy rejects; they carry telemetry only. The feature flags are
// read when istiod's packages initialise, so they must be in the environment before main runs.
var requiredEnv = map[string]string{
	"PILOT_ENABLE_METADATA_EXCHANGE": "false",
	"PILOT_ENABLE_ALPN_FILTER":       "false",
}

type request struct {
	ClusterID  string      `json:"clusterId"`
	Config     string      `json:"config"`
	MeshConfig string      `json:"meshConfig"`
	Services   []serviceIn `json:"services"`
	Proxies    []proxyIn   `json:"proxies"`
	// East-west gateways of the mesh's networks (what istiod learns from the gateways' Services): the
	// endpoints on another network are reached through them (EndpointsByNetworkFilter).
	Gateways []gatewayIn `json:"gateways"`
	// Optional: another generator's resources (src/mesh's), re-encoded through the same protos so that
	// both sides compare in one canonical JSON form (defaults omitted, wrappers and durations alike).
	Ours map[string]rawXds `json:"ours"`
}

type rawXds struct {
	Clusters  []json.RawMessage `json:"clusters"`
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Endpoints []json.RawMessage `json:"endpoints"`
}

type portIn struct {
	Name     string `json:"name"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
}

type gatewayIn struct {
	Network string `json:"network"`
	Cluster string `json:"cluster"`
	Address string `json:"address"`
	Port    uint32 `json:"port"`
}

type endpointIn struct {
	// The endpoint's cluster (multi-primary: istiod reads remote clusters too); empty: the request's.
	Cluster        string            `json:"cluster"`
	Address        string            `json:"address"`
	Port           uint32            `json:"port"`
	PortName       string            `json:"portName"`
	Locality       string            `json:"locality"`
	Network        string            `json:"network"`
	ServiceAccount string            `json:"serviceAccount"`
	Labels         map[string]string `json:"labels"`
	TLSMode        string            `json:"tlsMode"`
	WorkloadName   string            `json:"workloadName"`
}

type serviceIn struct {
	Hostname        string            `json:"hostname"`
	Name            string            `json:"name"`
	Namespace       string            `json:"namespace"`
	VIP             string            `json:"vip"`
	Ports           []portIn          `json:"ports"`
	ServiceAccounts []string          `json:"serviceAccounts"`
	Labels          map[string]string `json:"labels"`
	Endpoints       []endpointIn      `json:"endpoints"`
}

type proxyIn struct {
	Name             string            `json:"name"`
	Type             string            `json:"type"`
	Namespace        string            `json:"namespace"`
	IPs              []string          `json:"ips"`
	Labels           map[string]string `json:"labels"`
	Locality         string            `json:"locality"`
	Network          string            `json:"network"`
	InterceptionMode string            `json:"interceptionMode"`
	IstioVersion     string            `json:"istioVersion"`
	WorkloadName     string            `json:"workloadName"`
	// ISTIO_META_REQUESTED_NETWORK_VIEW: the multi-network east-west gateway sees its own network only.
	RequestedNetworkView []string `json:"requestedNetworkView"`
}

type proxyOut struct {
	Clusters  []json.RawMessage `json:"clusters"`
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Endpoints []json.RawMessage `json:"endpoints"`
}

type response struct {
	Istio   string              `json:"istio"`
	Proxies map[string]proxyOut `json:"proxies"`
	Ours    map[string]proxyOut `json:"ours,omitempty"`
}

func main() {
	reexecWithFeatureFlags()
	// istiod logs to stdout by default; stdout carries the JSON answer.
	opts := log.DefaultOptions()
	opts.OutputPaths = []string{"stderr"}
	opts.ErrorOutputPaths = []string{"stderr"}
	opts.SetDefaultOutputLevel("all", log.ErrorLevel)
	if err := log.Configure(opts); err != nil {
		fatal("configure logging: %v", err)
	}

	req := readRequest()
	out, err := generate(req)
	if err != nil {
		fatal("%v", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fatal("write: %v", err)
	}
}

func reexecWithFeatureFlags() {
	missing := false
	for k, v := range requiredEnv {
		if os.Getenv(k) != v {
			os.Setenv(k, v)
			missing = true
		}
	}
	if !missing {
		return
	}
	self, err := os.Executable()
	if err != nil {
		fatal("find own executable: %v", err)
	}
	fatal("re-exec: %v", syscall.Exec(self, os.Args, os.Environ()))
}

func readRequest() request {
	var in io.Reader = os.Stdin
	if len(os.Args) > 1 && os.Args[1] != "-" {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fatal("%v", err)
		}
		defer f.Close()
		in = f
	}
	var req request
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fatal("request: %v", err)
	}
	return req
}

func generate(req request) (*response, error) {
	m := mesh.DefaultMeshConfig()
	if req.MeshConfig != "" {
		var err error
		if m, err = mesh.ApplyMeshConfigDefaults(req.MeshConfig); err != nil {
			return nil, fmt.Errorf("meshConfig: %v", err)
		}
	}
	services, instances, err := buildServices(req)
	if err != nil {
		return nil, err
	}
	cg := core.NewConfigGenTest(&failer{}, core.TestOptions{
		ConfigString: req.Config,
		MeshConfig:   m,
		Services:     services,
		Instances:    instances,
		ClusterID:    cluster.ID(req.ClusterID),
		Gateways:     networkGateways(req),
	})
	out := &response{Istio: istioModuleVersion(), Proxies: map[string]proxyOut{}}
	for _, pin := range req.Proxies {
		p := cg.SetupProxy(buildProxy(req, pin))
		po, err := proxyXds(cg, p)
		if err != nil {
			return nil, fmt.Errorf("proxy %s: %v", pin.Name, err)
		}
		out.Proxies[pin.Name] = po
	}
	if len(req.Ours) > 0 {
		out.Ours = map[string]proxyOut{}
		for name, x := range req.Ours {
			po, err := canonical(x)
			if err != nil {
				return nil, fmt.Errorf("ours.%s: %v", name, err)
			}
			out.Ours[name] = po
		}
	}
	return out, nil
}

func canonical(x rawXds) (proxyOut, error) {
	var out proxyOut
	conv := func(to *[]json.RawMessage, from []json.RawMessage, mk func() proto.Message, kind string) error {
		for i, raw := range from {
			m := mk()
			if err := protojson.Unmarshal(raw, m); err != nil {
				return fmt.Errorf("%s[%d]: %v", kind, i, err)
			}
			if err := appendJSON(to, m); err != nil {
				return err
			}
		}
		return nil
	}
	if err := conv(&out.Clusters, x.Clusters, func() proto.Message { return &clusterv3.Cluster{} }, "clusters"); err != nil {
		return out, err
	}
	if err := conv(&out.Listeners, x.Listeners, func() proto.Message { return &listenerv3.Listener{} }, "listeners"); err != nil {
		return out, err
	}
	if err := conv(&out.Routes, x.Routes, func() proto.Message { return &routev3.RouteConfiguration{} }, "routes"); err != nil {
		return out, err
	}
	if err := conv(&out.Endpoints, x.Endpoints, func() proto.Message { return &endpointv3.ClusterLoadAssignment{} }, "endpoints"); err != nil {
		return out, err
	}
	return out, nil
}

func buildServices(req request) ([]*model.Service, []*model.ServiceInstance, error) {
	var services []*model.Service
	var instances []*model.ServiceInstance
	created := time.Unix(0, 0)
	for _, s := range req.Services {
		svc := &model.Service{
			Hostname:        host.Name(s.Hostname),
			DefaultAddress:  s.VIP,
			ServiceAccounts: s.ServiceAccounts,
			Resolution:      model.ClientSideLB,
			CreationTime:    created,
			Attributes: model.ServiceAttributes{
				Name: s.Name, Namespace: s.Namespace, ServiceRegistry: provider.Kubernetes, Labels: s.Labels,
			},
		}
		if svc.DefaultAddress == "" {
			svc.DefaultAddress = "0.0.0.0"
		}
		for _, p := range s.Ports {
			// As the Kubernetes registry does: the protocol comes from the port's name (http, http-x, grpc...).
			proto := kubeconv.ConvertProtocol(int32(p.Port), p.Name, corev1.ProtocolTCP, nil)
			if p.Protocol != "" {
				proto = protocol.Parse(p.Protocol)
			}
			svc.Ports = append(svc.Ports, &model.Port{Name: p.Name, Port: p.Port, Protocol: proto})
		}
		services = append(services, svc)
		for i, e := range s.Endpoints {
			port, ok := svc.Ports.Get(e.PortName)
			if !ok {
				return nil, nil, fmt.Errorf("service %s endpoints[%d]: no port named %q", s.Hostname, i, e.PortName)
			}
			tls := e.TLSMode
			if tls == "" {
				tls = model.IstioMutualTLSModeLabel
			}
			instances = append(instances, &model.ServiceInstance{
				Service:     svc,
				ServicePort: port,
				Endpoint: &model.IstioEndpoint{
					Addresses:       []string{e.Address},
					ServicePortName: e.PortName,
					EndpointPort:    e.Port,
					ServiceAccount:  e.ServiceAccount,
					Network:         network.ID(e.Network),
					Locality:        model.Locality{Label: e.Locality, ClusterID: endpointCluster(req, e)},
					TLSMode:         tls,
					Labels:          e.Labels,
					Namespace:       s.Namespace,
					WorkloadName:    e.WorkloadName,
					HealthStatus:    model.Healthy,
				},
			})
		}
	}
	return services, instances, nil
}

func endpointCluster(req request, e endpointIn) cluster.ID {
	if e.Cluster != "" {
		return cluster.ID(e.Cluster)
	}
	return cluster.ID(req.ClusterID)
}

func networkGateways(req request) []model.NetworkGateway {
	var out []model.NetworkGateway
	for _, g := range req.Gateways {
		out = append(out, model.NetworkGateway{Network: network.ID(g.Network), Cluster: cluster.ID(g.Cluster), Addr: g.Address, Port: g.Port})
	}
	return out
}

func buildProxy(req request, in proxyIn) *model.Proxy {
	t := model.SidecarProxy
	if in.Type == "router" {
		t = model.Router
	}
	version := in.IstioVersion
	if version == "" {
		version = "1.32.0"
	}
	md := &model.NodeMetadata{
		IstioVersion: version,
		Namespace:    in.Namespace,
		Labels:       in.Labels,
		ClusterID:    cluster.ID(req.ClusterID),
		Network:      network.ID(in.Network),
		WorkloadName: in.WorkloadName,
	}
	if len(in.RequestedNetworkView) > 0 {
		md.RequestedNetworkView = in.RequestedNetworkView
	}
	if in.InterceptionMode != "" {
		md.InterceptionMode = model.TrafficInterceptionMode(in.InterceptionMode)
	}
	return &model.Proxy{
		Type:            t,
		ID:              in.Name + "." + in.Namespace,
		ConfigNamespace: in.Namespace,
		IPAddresses:     in.IPs,
		Labels:          in.Labels,
		Locality:        util.ConvertLocality(in.Locality),
		Metadata:        md,
	}
}

func proxyXds(cg *core.ConfigGenTest, p *model.Proxy) (proxyOut, error) {
	var out proxyOut
	clusters := cg.Clusters(p)
	sort.Slice(clusters, func(i, j int) bool { return clusters[i].Name < clusters[j].Name })
	listeners := cg.Listeners(p)
	routes := cg.RoutesFromListeners(p, listeners)
	for _, c := range clusters {
		if err := appendJSON(&out.Clusters, c); err != nil {
			return out, err
		}
		if c.GetType().String() != "EDS" {
			continue
		}
		eb := endpoints.NewEndpointBuilder(c.Name, p, cg.PushContext())
		if err := appendJSON(&out.Endpoints, eb.BuildClusterLoadAssignment(cg.Env().EndpointIndex)); err != nil {
			return out, err
		}
	}
	for _, l := range listeners {
		if err := appendJSON(&out.Listeners, l); err != nil {
			return out, err
		}
	}
	for _, r := range routes {
		if err := appendJSON(&out.Routes, r); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Proto field names (snake_case) and Any with @type: the form Envoy's config dump and src/mesh use.
var marshal = protojson.MarshalOptions{UseProtoNames: true}

func appendJSON(to *[]json.RawMessage, m proto.Message) error {
	b, err := marshal.Marshal(m)
	if err != nil {
		return err
	}
	*to = append(*to, json.RawMessage(b))
	return nil
}

func istioModuleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "istio.io/istio" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "istiod-config: "+format+"\n", args...)
	os.Exit(2)
}

// failer is istiod's test.Failer for a program: the harness reports its own setup errors through it.
type failer struct{ cleanups []func() }

func (f *failer) Fail()                     { fatal("istiod's config generator failed") }
func (f *failer) FailNow()                  { f.Fail() }
func (f *failer) Fatal(args ...any)         { fatal("%s", fmt.Sprint(args...)) }
func (f *failer) Fatalf(s string, a ...any) { fatal(s, a...) }
func (f *failer) Log(args ...any)           { fmt.Fprintln(os.Stderr, args...) }
func (f *failer) Logf(s string, a ...any)   { fmt.Fprintf(os.Stderr, s+"\n", a...) }
func (f *failer) Helper()                   {}
func (f *failer) Cleanup(fn func())         { f.cleanups = append(f.cleanups, fn) }
func (f *failer) Skip(args ...any)          { fatal("skip: %s", fmt.Sprint(args...)) }
func (f *failer) TempDir() string {
	d, err := os.MkdirTemp("", "istiod-config-")
	if err != nil {
		fatal("%v", err)
	}
	return d
}
