// A point-of-sale as a Java shop would write it: kafka-clients with its default partitioner,
// purchases keyed by member id. Run by java_partitioner_contract_test.
//
// usage: JavaPurchaseProducer <bootstrap> <topic> <member-id>...
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

public class JavaPurchaseProducer {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (int i = 2; i < args.length; ++i) {
        String member = args[i];
        String value = "{\"purchaseId\":\"java-" + member + "\",\"memberId\":\"" + member
            + "\",\"amountMinor\":\"1000\",\"currency\":\"UAH\"}";
        RecordMetadata md = producer.send(new ProducerRecord<>(args[1], member, value)).get();
        // The partition the Java client chose, for the test's log.
        System.out.println(member + " " + md.partition());
      }
    }
  }
}
