// Waits until a cluster has the expected number of brokers, then creates topics (those that
// already exist are left alone) and waits until every partition has a leader. Run by
// scripts/kafka.sh as a single-file program: java -cp "<jars>/*" CreateTopics.java ...
//
// usage: CreateTopics <bootstrap> <brokers> <partitions> <replication> <min.insync> <timeout s>
//                     topic[:compact]...
// A topic named with ":compact" gets cleanup.policy=compact (the API keys: the latest record
// of each key is its state).
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;

public class CreateTopics {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    int brokers = Integer.parseInt(args[1]);
    int partitions = Integer.parseInt(args[2]);
    short replication = Short.parseShort(args[3]);
    String minInsync = args[4];
    long deadline = System.currentTimeMillis() + Long.parseLong(args[5]) * 1000;
    List<String> names = new ArrayList<>();
    List<String> compacted = new ArrayList<>();
    for (String spec : List.of(args).subList(6, args.length)) {
      String name = spec.endsWith(":compact") ? spec.substring(0, spec.indexOf(':')) : spec;
      names.add(name);
      if (!name.equals(spec)) compacted.add(name);
    }

    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    try (Admin admin = Admin.create(props)) {
      // Every broker registered: otherwise replication 3 cannot be placed.
      while (true) {
        int seen = -1;
        try {
          seen = admin.describeCluster().nodes().get().size();
        } catch (ExecutionException e) {
          // not up yet
        }
        if (seen >= brokers) break;
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("only " + seen + " of " + brokers + " brokers up");
        }
        Thread.sleep(250);
      }
      List<NewTopic> topics = new ArrayList<>();
      for (String name : names) {
        Map<String, String> configs = compacted.contains(name)
            ? Map.of("min.insync.replicas", minInsync, "cleanup.policy", "compact")
            : Map.of("min.insync.replicas", minInsync);
        topics.add(new NewTopic(name, partitions, replication).configs(configs));
      }
      for (var entry : admin.createTopics(topics).values().entrySet()) {
        try {
          entry.getValue().get();
          System.out.println("created " + entry.getKey());
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) throw e;
          System.out.println("exists " + entry.getKey());
        }
      }
      // Created is not yet usable: wait for a leader on every partition.
      while (true) {
        boolean ready = true;
        try {
          for (TopicDescription d : admin.describeTopics(names).allTopicNames().get().values()) {
            for (TopicPartitionInfo p : d.partitions()) {
              if (p.leader() == null || p.isr().size() < replication) ready = false;
            }
          }
        } catch (ExecutionException e) {
          ready = false;
        }
        if (ready) break;
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("topics without leader or full ISR");
        }
        Thread.sleep(200);
      }
    }
  }
}
