package io.mproxy.gossip;

import io.mproxy.core.admission.ResourceGroups;
import io.mproxy.core.config.FleetConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.share.ShareSettings;
import io.mproxy.core.time.Clock;
import io.mproxy.core.time.Scheduler;
import io.scalecube.cluster.Cluster;
import io.scalecube.cluster.ClusterConfig;
import io.scalecube.cluster.ClusterImpl;
import io.scalecube.cluster.ClusterMessageHandler;
import io.scalecube.cluster.Member;
import io.scalecube.cluster.membership.MembershipEvent;
import io.scalecube.cluster.transport.api.Message;
import io.scalecube.transport.netty.tcp.TcpTransportFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership in the fleet: a scalecube (SWIM) cluster for who is alive, and every
 * {@code gossip_interval_ms} a round of {@link FleetShares} whose report is sent to every known
 * member. Runs entirely off the request path (rounds on the housekeeping scheduler, messages on
 * scalecube's threads); any gossip failure is logged and leaves the node on its last shares,
 * which decay to the fallback as peers go stale — a request never waits for or fails because of
 * gossip.
 *
 * <p>{@link #disconnect()} and {@link #reconnect()} drop and re-create the membership with real
 * sockets closed, and {@link #linkFilter} cuts share reports between chosen nodes: fault
 * injection for tests and drills.
 */
public final class FleetNode implements AutoCloseable {

  /** Largest gossip frame accepted from a peer. */
  public static final int MAX_FRAME_BYTES = 256 * 1024;
  static final String QUALIFIER = "mproxy/share/1";
  static final String NODE_KEY = "node";
  private static final Logger LOG = LoggerFactory.getLogger(FleetNode.class);
  private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(5);

  private final String name;
  private final FleetShares shares;
  private final Scheduler scheduler;
  private final ShareReportCodec codec = new ShareReportCodec();
  private final JsonMetadataCodec metadataCodec = new JsonMetadataCodec();
  private final FleetConfig startConfig;
  private volatile LinkFilter filter = LinkFilter.OPEN;
  private volatile ClusterImpl cluster;
  private Scheduler.Cancellable rounds;
  private boolean closed;

  private FleetNode(FleetConfig config, ResourceGroups groups, Clock clock, Scheduler scheduler) {
    this.name = config.bind().host() + ":" + config.bind().port() + "/" + UUID.randomUUID().toString().substring(0, 8);
    this.startConfig = config;
    this.scheduler = scheduler;
    this.shares = new FleetShares(name, groups, clock, settings(config));
  }

  /**
   * Applies the fallback share to every group at once (a starting node knows no peer), joins the
   * fleet through the seeds, and starts the rounds. Blocking (binding, the first sync with the
   * seeds): call it off the event loops. A seed that does not answer is not an error — the node
   * starts alone, on its fallback share.
   */
  public static FleetNode start(FleetConfig config, ResourceGroups groups, Clock clock, Scheduler scheduler) {
    FleetNode node = new FleetNode(config, groups, clock, scheduler);
    node.shares.round();
    node.connect();
    synchronized (node) {
      node.rounds = scheduler.scheduleAtFixedRate(node::round,
          TimeUnit.MILLISECONDS.toNanos(config.gossipIntervalMs()));
    }
    node.round();
    return node;
  }

  static ShareSettings settings(FleetConfig c) {
    return new ShareSettings(TimeUnit.MILLISECONDS.toNanos(c.staleAfterMs()), c.expectedNodes(),
        c.fallbackShare(), c.shareFloor());
  }

  /** This node's name in share reports: the configured bind and a random suffix. */
  public String name() {
    return name;
  }

  /** The gossip address peers dial, or empty while disconnected. */
  public Optional<String> address() {
    ClusterImpl c = cluster;
    return c == null ? Optional.empty() : Optional.of(c.address());
  }

  /**
   * Applies a reloaded {@code cluster:} section: {@code expected_nodes}, {@code stale_after_ms},
   * {@code fallback_share} and {@code share_floor} take effect at the next round; {@code bind},
   * {@code seeds} and {@code gossip_interval_ms} only on restart (returns false and logs which).
   */
  public boolean reconfigure(FleetConfig next) {
    shares.settings(settings(next));
    if (startConfig.needsRestartFor(next)) {
      LOG.warn("cluster: bind, seeds and gossip_interval_ms change on restart only; "
          + "expected_nodes, stale_after_ms, fallback_share and share_floor were applied");
      return false;
    }
    return true;
  }

  /** Cuts (or restores, with {@link LinkFilter#OPEN}) share reports between chosen nodes. */
  public void linkFilter(LinkFilter next) {
    this.filter = next == null ? LinkFilter.OPEN : next;
  }

  /** The members this node's SWIM view holds, itself first, as gossip addresses. */
  public List<String> members() {
    ClusterImpl c = cluster;
    if (c == null) {
      return List.of(name);
    }
    List<String> out = new ArrayList<>();
    out.add(c.address());
    for (Member m : c.otherMembers()) {
      out.add(m.address());
    }
    return out;
  }

  public FleetShares.Snapshot snapshot() {
    return shares.snapshot();
  }

  /** Leaves the fleet gracefully and closes the gossip sockets; rounds go on, alone. Blocking. */
  public void disconnect() {
    ClusterImpl c;
    synchronized (this) {
      c = cluster;
      cluster = null;
    }
    if (c == null) {
      return;
    }
    try {
      c.shutdown();
      c.onShutdown().block(SHUTDOWN_WAIT);
    } catch (RuntimeException e) {
      LOG.warn("cluster: gossip shutdown did not complete cleanly: {}", e.toString());
    }
  }

  /** Joins the fleet again through the seeds, as a new member. Blocking. */
  public void reconnect() {
    synchronized (this) {
      if (closed || cluster != null) {
        return;
      }
    }
    connect();
  }

  private void connect() {
    HostPort bind = startConfig.bind();
    List<String> seeds = startConfig.seeds().stream().map(h -> h.host() + ":" + h.port()).toList();
    ClusterImpl c = new ClusterImpl(ClusterConfig.defaultLanConfig())
        .config(cfg -> cfg.memberAlias(name)
            .externalHost(bind.host())
            .metadata(Map.of(NODE_KEY, name))
            .metadataCodec(metadataCodec))
        .transport(t -> t.port(bind.port())
            .messageCodec(new FilteredJdkMessageCodec())
            .maxFrameLength(MAX_FRAME_BYTES))
        .transportFactory(TcpTransportFactory::new)
        .membership(m -> m.seedMembers(seeds))
        .handler(cl -> new Handler());
    Cluster started = c.startAwait();
    synchronized (this) {
      if (closed) {
        started.shutdown();
        return;
      }
      cluster = c;
    }
    LOG.info("cluster: gossip on {} as {}, seeds {}", started.address(), name, seeds);
  }

  /** Runs a round now (after a reload changed groups or settings), on the caller's thread. */
  public void refresh() {
    round();
  }

  private void round() {
    ShareReport report = shares.round();
    ClusterImpl c = cluster;
    if (c == null) {
      return;
    }
    String text = codec.encode(report);
    if (text.length() > ShareReportCodec.MAX_CHARS) {
      LOG.warn("cluster: share report of {} chars exceeds {}; not sent", text.length(), ShareReportCodec.MAX_CHARS);
      return;
    }
    Message message = Message.builder().qualifier(QUALIFIER).data(text).build();
    LinkFilter f = filter;
    for (Member peer : c.otherMembers()) {
      Optional<String> to = peerName(c, peer);
      if (to.isPresent() && !f.passes(name, to.get())) {
        continue;
      }
      try {
        c.transport().send(peer.address(), message)
            .subscribe(null, e -> LOG.debug("cluster: share report to {} failed: {}", peer.address(), e.toString()));
      } catch (RuntimeException e) {
        LOG.debug("cluster: share report to {} failed: {}", peer.address(), e.toString());
      }
    }
  }

  private static Optional<String> peerName(ClusterImpl c, Member peer) {
    try {
      Optional<Object> meta = c.metadata(peer);
      return meta.filter(m -> m instanceof Map<?, ?>).map(m -> ((Map<?, ?>) m).get(NODE_KEY))
          .filter(v -> v instanceof String).map(v -> (String) v);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  private Optional<String> nodeOf(MembershipEvent event) {
    ByteBuffer meta = event.oldMetadata() != null ? event.oldMetadata() : event.newMetadata();
    Object decoded = meta == null ? null : metadataCodec.deserialize(meta);
    if (decoded instanceof Map<?, ?> m && m.get(NODE_KEY) instanceof String s) {
      return Optional.of(s);
    }
    return Optional.empty();
  }

  /** Stops the rounds and leaves the fleet. The groups keep their last shares while draining. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (rounds != null) {
        rounds.cancel();
      }
    }
    disconnect();
  }

  /**
   * Receives share reports and membership changes on scalecube's threads; never throws. A member
   * that announces it is leaving is forgotten at once; one SWIM declares dead is left to go stale,
   * because on a starved machine SWIM suspects live members and the share must not flap with it.
   */
  private final class Handler implements ClusterMessageHandler {

    @Override
    public void onMessage(Message message) {
      try {
        if (!QUALIFIER.equals(message.qualifier())) {
          return;
        }
        Optional<ShareReport> report = codec.decode(message.data());
        if (report.isEmpty()) {
          LOG.debug("cluster: malformed share report from {}", message.sender());
          return;
        }
        if (!filter.passes(report.get().node(), name)) {
          return;
        }
        shares.accept(report.get());
      } catch (RuntimeException e) {
        LOG.warn("cluster: share report dropped: {}", e.toString());
      }
    }

    @Override
    public void onMembershipEvent(MembershipEvent event) {
      try {
        LOG.info("cluster: member {} {}", event.member().address(), event.type());
        if (event.isLeaving()) {
          nodeOf(event).ifPresent(shares::forget);
        }
      } catch (RuntimeException e) {
        LOG.warn("cluster: membership event dropped: {}", e.toString());
      }
    }
  }
}
