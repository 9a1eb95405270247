package cx.switchboard.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.SchemaStore;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads topics written by Switchboard and decodes every value as a Java consumer would, with Apache
 * Avro's own decoders: single-object encoding through a {@link BinaryMessageDecoder} whose
 * {@link SchemaStore} holds every version of every subject (the header's fingerprint picks the
 * writer schema), the Confluent wire format by its 5-byte header and the registry's REST API
 * ({@code GET /schemas/ids/{id}}). Either way the reader schema is the subject's latest version.
 *
 * <p>Usage: {@code ReadTopics <config.json>}, the config holding {@code bootstrap}, {@code topics}
 * (topic name to subject; {@code null} for an input log, whose records name their source topic in
 * header {@code input.source}), {@code sources} (source topic to subject), {@code schemas} (subject
 * to its versions' schema texts, oldest first) and {@code registry} (the Confluent-compatible API's
 * base URL, or null). Prints one JSON document: per topic the count and the decoded records, each
 * value in Avro's JSON encoding under the reader schema. Exits 1 if any record cannot be decoded.
 */
public final class ReadTopics {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration READ_DEADLINE = Duration.ofSeconds(30);

  private final Map<String, Schema> latest = new HashMap<>();
  private final Map<String, BinaryMessageDecoder<GenericRecord>> singleObject = new HashMap<>();
  private final Map<Integer, Schema> registered = new HashMap<>();
  private final Map<String, GenericDatumReader<GenericRecord>> resolving = new HashMap<>();
  private final String registry;
  private final HttpClient http = HttpClient.newHttpClient();

  private ReadTopics(JsonNode schemas, String registry) {
    this.registry = registry;
    SchemaStore.Cache store = new SchemaStore.Cache();
    for (Iterator<Map.Entry<String, JsonNode>> it = schemas.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> subject = it.next();
      Schema newest = null;
      for (JsonNode text : subject.getValue()) {
        newest = new Schema.Parser().parse(text.asText()); // one parser per schema: names repeat
        store.addSchema(newest);
      }
      latest.put(subject.getKey(), newest);
    }
    for (Map.Entry<String, Schema> subject : latest.entrySet()) {
      singleObject.put(subject.getKey(),
          new BinaryMessageDecoder<>(GenericData.get(), subject.getValue(), store));
    }
  }

  public static void main(String[] args) throws Exception {
    JsonNode config = JSON.readTree(new File(args[0]));
    JsonNode registry = config.get("registry");
    ReadTopics reader = new ReadTopics(config.get("schemas"),
        registry == null || registry.isNull() ? null : registry.asText().replaceAll("/+$", ""));
    Map<String, String> topics = new HashMap<>();
    config.get("topics").fields().forEachRemaining(e ->
        topics.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
    Map<String, String> sources = new HashMap<>();
    config.get("sources").fields().forEachRemaining(e -> sources.put(e.getKey(), e.getValue().asText()));

    ObjectNode out = JSON.createObjectNode();
    ObjectNode byTopic = out.putObject("topics");
    topics.keySet().forEach(t -> byTopic.putObject(t).put("count", 0).putArray("records"));
    List<String> failures = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> record : readAll(config.get("bootstrap").asText(), topics.keySet())) {
      String where = record.topic() + "[" + record.partition() + "]@" + record.offset();
      String subject = topics.get(record.topic());
      if (subject == null) {
        Header source = record.headers().lastHeader("input.source");
        subject = source == null ? null : sources.get(new String(source.value(), StandardCharsets.UTF_8));
      }
      ObjectNode entry = ((ObjectNode) byTopic.get(record.topic()));
      entry.put("count", entry.get("count").asInt() + 1);
      try {
        if (subject == null) {
          throw new IllegalArgumentException("no subject for this record (input.source header?)");
        }
        ObjectNode decoded = reader.decode(subject, record.value());
        decoded.put("partition", record.partition()).put("offset", record.offset())
            .put("key", record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8));
        ((ArrayNode) entry.get("records")).add(decoded);
      } catch (Exception e) {
        failures.add(where + " (" + subject + "): " + e);
      }
    }
    out.putArray("failures").addAll(failures.stream().map(JSON.getNodeFactory()::textNode).toList());
    System.out.println(JSON.writeValueAsString(out));
    for (String failure : failures) {
      System.err.println("cannot decode " + failure);
    }
    System.exit(failures.isEmpty() ? 0 : 1);
  }

  /** Every record of the topics, from the beginning to the end offsets at the start. */
  private static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, Iterable<String> names) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50"); // the topics are read to a known end
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      Map<String, List<PartitionInfo>> existing = consumer.listTopics(Duration.ofSeconds(10));
      for (String name : names) {
        if (!existing.containsKey(name)) {
          throw new IllegalArgumentException("no topic " + name + " on " + bootstrap);
        }
        for (PartitionInfo p : existing.get(name)) {
          partitions.add(new TopicPartition(name, p.partition()));
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(10));
      long deadline = System.nanoTime() + READ_DEADLINE.toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("timed out reading the topics up to " + ends);
        }
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }

  /** The value decoded: its framing, its writer schema's identity, and the record as Avro JSON. */
  private ObjectNode decode(String subject, byte[] value) throws IOException, InterruptedException {
    Schema reader = latest.get(subject);
    if (reader == null) {
      throw new IllegalArgumentException("unknown subject " + subject);
    }
    ObjectNode decoded = JSON.createObjectNode().put("subject", subject);
    GenericRecord record;
    if (value.length >= 10 && (value[0] & 0xff) == 0xc3 && value[1] == 0x01) {
      // BinaryMessageDecoder checks the header and looks the fingerprint up in the SchemaStore.
      record = singleObject.get(subject).decode(value);
      decoded.put("encoding", "single-object")
          .put("fingerprint", HexFormat.of().formatHex(value, 2, 10));
    } else if (value.length >= 5 && value[0] == 0x00) {
      int id = ByteBuffer.wrap(value, 1, 4).getInt();
      Schema writer = registered(id);
      record = resolving.computeIfAbsent(id + "/" + subject, k -> new GenericDatumReader<>(writer, reader))
          .read(null, DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null));
      decoded.put("encoding", "confluent").put("schema_id", id);
    } else {
      throw new IllegalArgumentException("neither single-object encoding nor the Confluent wire format");
    }
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    JsonEncoder encoder = EncoderFactory.get().jsonEncoder(reader, json);
    new GenericDatumWriter<GenericRecord>(reader).write(record, encoder);
    encoder.flush();
    decoded.set("value", JSON.readTree(json.toByteArray()));
    return decoded;
  }

  /** The writer schema the registry holds under `id` (GET /schemas/ids/{id} of Confluent's API). */
  private Schema registered(int id) throws IOException, InterruptedException {
    Schema known = registered.get(id);
    if (known != null) {
      return known;
    }
    if (registry == null) {
      throw new IllegalStateException("Confluent-framed value (schema id " + id + ") but no registry given");
    }
    HttpResponse<String> response = http.send(
        HttpRequest.newBuilder(URI.create(registry + "/schemas/ids/" + id)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("registry answered " + response.statusCode() + " for schema id " + id
          + ": " + response.body());
    }
    JsonNode body = JSON.readTree(response.body());
    JsonNode type = body.get("schemaType");
    if (type != null && !type.isNull() && !"AVRO".equals(type.asText())) {
      throw new IllegalArgumentException("schema id " + id + " is a " + type.asText() + " schema");
    }
    Schema writer = new Schema.Parser().parse(body.get("schema").asText());
    registered.put(id, writer);
    return writer;
  }
}
