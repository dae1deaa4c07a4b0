#!/usr/bin/env python3
"""Writes the Grafana dashboards in deploy/grafana/dashboards/ from one description, so that
the five dashboards share panel conventions and the per-service RED panels stay identical.

Run it after editing: python3 deploy/grafana/generate_dashboards.py
The JSON files are committed, so Grafana and the observability test never need Python.

tests/integration/observability runs every service under a demo load and checks that every
panel's query returns data.
"""
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")
DS = {"type": "prometheus", "uid": "loyalty-prometheus"}
# gRPC codes that mean the server failed, not the caller (client errors like NOT_FOUND or
# INVALID_ARGUMENT are answers, not faults).
SERVER_CODES = "UNKNOWN|INTERNAL|UNAVAILABLE|DATA_LOSS|DEADLINE_EXCEEDED|UNIMPLEMENTED"
ISSUED = "earned|awarded|adjusted_up"


class Layout:
    def __init__(self):
        self.panels = []
        self.y = 0
        self.x = 0
        self.next_id = 1

    def row(self, title):
        if self.x:
            self.y += 8
            self.x = 0
        self.panels.append({"type": "row", "title": title, "collapsed": False, "id": self.next_id,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.next_id += 1
        self.y += 1

    def add(self, title, targets, kind="timeseries", unit="short", w=8, description="",
            legend=None):
        if self.x + w > 24:
            self.y += 8
            self.x = 0
        if isinstance(targets, str):
            targets = [(targets, legend or "")]
        panel = {
            "id": self.next_id,
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DS,
            "gridPos": {"h": 8 if kind == "timeseries" else 5, "w": w, "x": self.x, "y": self.y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}}
            if kind == "timeseries" else {"reduceOptions": {"calcs": ["lastNotNull"]}},
            "targets": [{"datasource": DS, "refId": chr(ord("A") + i), "expr": expr,
                         "legendFormat": lf} for i, (expr, lf) in enumerate(targets)],
        }
        self.panels.append(panel)
        self.next_id += 1
        self.x += w


def dashboard(uid, title, tags, layout, description):
    return {
        "uid": uid, "title": title, "tags": ["loyalty"] + tags, "description": description,
        "timezone": "browser", "schemaVersion": 38, "version": 1, "editable": False,
        "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []}, "annotations": {"list": []}, "panels": layout.panels,
    }


def red_rows(l, job):
    sel = f'job="{job}"'
    l.row("gRPC: rate, errors, duration")
    l.add("Requests/s by method",
          f"sum by (grpc_method) (rate(grpc_server_handled_total{{{sel}}}[$__rate_interval]))",
          unit="reqps", legend="{{grpc_method}}")
    l.add("Non-OK answers/s by method and code",
          f'sum by (grpc_method, grpc_code) (rate(grpc_server_handled_total{{{sel}, grpc_code!="OK"}}[$__rate_interval]))',
          unit="reqps", legend="{{grpc_method}} {{grpc_code}}",
          description="Client errors (NOT_FOUND, INVALID_ARGUMENT, ALREADY_EXISTS, "
                      "FAILED_PRECONDITION) are normal answers; server errors are in the next panel.")
    l.add("Server error ratio by method",
          f'(sum by (grpc_method) (rate(grpc_server_handled_total{{{sel}, grpc_code=~"{SERVER_CODES}"}}[$__rate_interval]))'
          f" or sum by (grpc_method) (rate(grpc_server_handled_total{{{sel}}}[$__rate_interval])) * 0)"
          f" / sum by (grpc_method) (rate(grpc_server_handled_total{{{sel}}}[$__rate_interval]))",
          unit="percentunit", legend="{{grpc_method}}",
          description=f"Codes {SERVER_CODES} over all answers; alert LoyaltyGrpcServerErrors at 5%.")
    l.add("Latency p99 by method",
          f"histogram_quantile(0.99, sum by (grpc_method, le) (rate(grpc_server_handling_seconds_bucket{{{sel}}}[$__rate_interval])))",
          unit="s", legend="{{grpc_method}}", w=12)
    l.add("Latency p50 by method",
          f"histogram_quantile(0.5, sum by (grpc_method, le) (rate(grpc_server_handling_seconds_bucket{{{sel}}}[$__rate_interval])))",
          unit="s", legend="{{grpc_method}}", w=12)


def kafka_rows(l, job):
    sel = f'job="{job}"'
    l.row("Kafka consumption")
    l.add("Consumed/s by topic",
          f"sum by (topic) (rate(kafka_messages_consumed_total{{{sel}}}[$__rate_interval]))",
          unit="ops", legend="{{topic}}")
    l.add("Consumer lag by topic", f"sum by (topic) (kafka_consumer_lag{{{sel}}})",
          legend="{{topic}}",
          description="Messages between the committed offset (kept in RocksDB) and the end of "
                      "each partition, summed over partitions. Alert: LoyaltyConsumerLagGrowing.")
    l.add("Dead letters in the last hour by topic and reason",
          f"sum by (topic, reason) (increase(kafka_messages_dead_lettered_total{{{sel}}}[1h]))",
          legend="{{topic}} {{reason}}",
          description="Messages sent to <topic>.dlq. Inspect them with kcat; see docs/operations.md.")
    l.add("Duplicates/s (already applied)",
          f"sum(rate(kafka_messages_duplicate_total{{{sel}}}[$__rate_interval]))", unit="ops",
          legend="duplicates",
          description="Redeliveries after a crash or a producer retry; they change nothing.")
    l.add("Batch commit latency p50 / p99", [
        (f"histogram_quantile(0.5, sum by (le) (rate(kafka_batch_commit_seconds_bucket{{{sel}}}[$__rate_interval])))", "p50"),
        (f"histogram_quantile(0.99, sum by (le) (rate(kafka_batch_commit_seconds_bucket{{{sel}}}[$__rate_interval])))", "p99"),
    ], unit="s", description="Apply a batch and fsync it (group commit).")
    l.add("Messages per batch (mean)",
          f"sum(rate(kafka_batch_messages_sum{{{sel}}}[$__rate_interval])) / sum(rate(kafka_batch_messages_count{{{sel}}}[$__rate_interval]))",
          legend="mean batch")


def outbox_and_process_rows(l, job):
    sel = f'job="{job}"'
    l.row("Outbox (events to Kafka)")
    l.add("Published/s by topic",
          f"sum by (topic) (rate(outbox_published_total{{{sel}}}[$__rate_interval]))",
          unit="ops", legend="{{topic}}")
    l.add("Pending in the outbox", f"sum(outbox_pending{{{sel}}})", legend="pending",
          description="Alert LoyaltyOutboxBacklog / LoyaltyOutboxStuck.")
    l.add("Publish failures/s",
          f"sum(rate(outbox_publish_failures_total{{{sel}}}[$__rate_interval]))", unit="ops",
          legend="failures",
          description="Not acknowledged by the broker; the relay sends them again.")
    l.row("Process")
    l.add("Up", f"up{{{sel}}}", legend="{{instance}}", w=6)
    l.add("Resident memory", f"process_resident_memory_bytes{{{sel}}}", unit="bytes",
          legend="{{instance}}", w=6)
    l.add("CPU (cores)", f"rate(process_cpu_seconds_total{{{sel}}}[$__rate_interval])",
          legend="{{instance}}", w=6)
    l.add("Open file descriptors / limit",
          f"process_open_fds{{{sel}}} / process_max_fds{{{sel}}}", unit="percentunit",
          legend="{{instance}}", w=6,
          description="RocksDB keeps its SST files open: a climb here is the store growing.")
    l.add("Uptime", f"time() - process_start_time_seconds{{{sel}}}", kind="stat", unit="s",
          w=6)


def accrual():
    l = Layout()
    job = "loyalty-accrual"
    l.row("Accrual")
    l.add("Members enrolled", f'sum(accrual_members{{job="{job}"}})', kind="stat", w=6)
    l.add("Holds open", f'sum(accrual_holds_open{{job="{job}"}})', kind="stat", w=6,
          description="Alert LoyaltyHoldsPilingUp.")
    l.add("Purchases/s by member", f'sum by (member) (rate(accrual_purchases_total{{job="{job}"}}[$__rate_interval]))',
          unit="ops", legend="member={{member}}", w=6)
    l.add("Refunds parked/s (arrived before their purchase)",
          f'sum(rate(accrual_refunds_parked_total{{job="{job}"}}[$__rate_interval]))', unit="ops", w=6)
    l.add("Points moved/s by operation",
          f'sum by (operation) (rate(accrual_points_total{{job="{job}"}}[$__rate_interval]))',
          legend="{{operation}}", w=24)
    red_rows(l, job)
    kafka_rows(l, job)
    outbox_and_process_rows(l, job)
    return dashboard("loyalty-accrual", "Loyalty / accrual (operators)", ["operators", "accrual"], l,
                     "RED for gRPC, Kafka consumption, outbox and process of loyalty-accrual.")


def referral():
    l = Layout()
    job = "loyalty-referral"
    sel = f'job="{job}"'
    l.row("Referral")
    l.add("Referral transitions/s by outcome",
          f"sum by (outcome) (rate(referral_referrals_total{{{sel}}}[$__rate_interval]))",
          unit="ops", legend="{{outcome}}")
    l.add("Rejections in the last hour by rule",
          f"sum by (reason) (increase(referral_rejections_total{{{sel}}}[1h]))", legend="{{reason}}")
    l.add("Held for review in the last hour by rule",
          f"sum by (reason) (increase(referral_holds_total{{{sel}}}[1h]))", legend="{{reason}}")
    l.add("Steps waiting for accrual", f"sum(referral_pending_steps{{{sel}}})", legend="pending",
          description="Awards/reversals persisted but not yet confirmed by accrual. "
                      "Alert LoyaltyReferralStepsPending.")
    l.add("Accrual unavailable: step retries/s",
          f"sum(rate(referral_step_retries_total{{{sel}}}[$__rate_interval]))", unit="ops")
    l.add("Bonus points/s by operation and role",
          f"sum by (operation, role) (rate(referral_points_total{{{sel}}}[$__rate_interval]))",
          legend="{{operation}} {{role}}")
    red_rows(l, job)
    kafka_rows(l, job)
    outbox_and_process_rows(l, job)
    return dashboard("loyalty-referral", "Loyalty / referral (operators)", ["operators", "referral"], l,
                     "RED for gRPC, Kafka consumption, outbox and process of loyalty-referral.")


def redemption():
    l = Layout()
    job = "loyalty-redemption"
    sel = f'job="{job}"'
    l.row("Redemption")
    l.add("Redemptions/s by kind and outcome",
          f"sum by (kind, outcome) (rate(redemption_redemptions_total{{{sel}}}[$__rate_interval]))",
          unit="ops", legend="{{kind}} {{outcome}}")
    l.add("Points/s by operation",
          f"sum by (operation) (rate(redemption_points_total{{{sel}}}[$__rate_interval]))",
          legend="{{operation}}")
    l.add("Sagas pending", f"sum(redemption_sagas_pending{{{sel}}})")
    l.add("Checkout holds open", f"sum(redemption_checkout_holds_open{{{sel}}})")
    # The step series appear on the first retry; "or vector(0)" draws a healthy 0 before.
    l.add("Saga steps retried/s by step",
          f"sum by (step) (rate(redemption_saga_steps_retried_total{{{sel}}}[$__rate_interval])) or vector(0)",
          unit="ops", legend="{{step}}",
          description="Accrual calls whose answer was unknown (repeated), and resumes of "
                      "unfinished sagas after a restart or an accrual outage.")
    l.add("Checkouts/s by outcome",
          f"sum by (outcome) (rate(redemption_checkouts_total{{{sel}}}[$__rate_interval]))",
          unit="ops", legend="{{outcome}}")
    l.add("Vouchers issued / used per second", [
        (f"sum(rate(redemption_vouchers_issued_total{{{sel}}}[$__rate_interval]))", "issued"),
        (f"sum(rate(redemption_vouchers_used_total{{{sel}}}[$__rate_interval]))", "used")],
        unit="ops")
    red_rows(l, job)
    outbox_and_process_rows(l, job)
    return dashboard("loyalty-redemption", "Loyalty / redemption (operators)", ["operators", "redemption"], l,
                     "Catalog redemptions, vouchers, checkouts and sagas; RED for gRPC, outbox and process "
                     "of loyalty-redemption (it consumes no Kafka topic).")


def notification():
    l = Layout()
    job = "loyalty-notification"
    sel = f'job="{job}"'
    l.row("Notification")
    l.add("Notifications/s by channel and outcome",
          f"sum by (channel, outcome) (rate(notification_notifications_total{{{sel}}}[$__rate_interval]))",
          unit="ops", legend="{{channel}} {{outcome}}")
    l.add("Delivery ratio by channel (delivered / (delivered + dead))",
          f'sum by (channel) (rate(notification_notifications_total{{{sel}, outcome="delivered"}}[$__rate_interval])) / '
          f'sum by (channel) (rate(notification_notifications_total{{{sel}, outcome=~"delivered|dead"}}[$__rate_interval]))',
          unit="percentunit", legend="{{channel}}")
    l.add("Queue depth", f"sum(notification_queue_depth{{{sel}}})")
    l.add("Circuit breaker open", f"max by (channel) (notification_breaker_open{{{sel}}})",
          legend="{{channel}}")
    l.add("Attempt latency p99 by channel",
          f"histogram_quantile(0.99, sum by (channel, le) (rate(notification_attempt_seconds_bucket{{{sel}}}[$__rate_interval])))",
          unit="s", legend="{{channel}}")
    l.add("Queued → delivered p99 by channel",
          f"histogram_quantile(0.99, sum by (channel, le) (rate(notification_delivery_seconds_bucket{{{sel}}}[$__rate_interval])))",
          unit="s", legend="{{channel}}")
    l.add("Retries and dead letters/s by channel", [
        (f"sum by (channel) (rate(notification_retries_total{{{sel}}}[$__rate_interval]))", "retry {{channel}}"),
        (f"sum by (channel) (rate(notification_dead_letters_total{{{sel}}}[$__rate_interval]))", "dead {{channel}}")],
        unit="ops")
    red_rows(l, job)
    # notification counts its input in notification_events_total, not in the kafka_* family.
    l.row("Events consumed (loyalty.events.v1)")
    l.add("Events/s by result",
          f"sum by (result) (rate(notification_events_total{{{sel}}}[$__rate_interval]))",
          unit="ops", legend="{{result}}", w=12,
          description="processed (mapped or skipped), duplicate (already applied), "
                      "dead_lettered (undecodable: sent to loyalty.events.v1.dlq), unmapped, "
                      "skipped (member opted out or no channel), digested.")
    l.add("Dead-lettered events in the last hour",
          f'sum(increase(notification_events_total{{{sel}, result="dead_lettered"}}[1h]))',
          legend="dead letters", w=12,
          description="Inspect loyalty.events.v1.dlq with kcat; see docs/operations.md.")
    outbox_and_process_rows(l, job)
    return dashboard("loyalty-notification", "Loyalty / notification (operators)", ["operators", "notification"], l,
                     "Deliveries by channel, queue, breakers, latency; events consumed; RED for gRPC, outbox "
                     "(dead letters only) and process of loyalty-notification.")


def overview():
    l = Layout()
    acc = 'job="loyalty-accrual"'
    ref = 'job="loyalty-referral"'
    l.row("Members and purchases")
    l.add("Members enrolled", f"sum(accrual_members{{{acc}}})", kind="stat", w=6,
          description="Every member ever enrolled, erased members included.")
    l.add("New members in the period", f"sum(delta(accrual_members{{{acc}}}[$__range]))",
          kind="stat", w=6, description="Growth of the enrolled gauge over the dashboard's period.")
    l.add("Purchases in the period by member / non-member",
          f"sum by (member) (increase(accrual_purchases_total{{{acc}}}[$__range]))",
          kind="stat", legend="member={{member}}", w=6)
    l.add("Member share of purchases",
          f'sum(increase(accrual_purchases_total{{{acc}, member="true"}}[$__range])) / '
          f"sum(increase(accrual_purchases_total{{{acc}}}[$__range]))",
          kind="stat", unit="percentunit", w=6)
    l.add("Purchases/hour by member / non-member",
          f"sum by (member) (increase(accrual_purchases_total{{{acc}}}[1h]))",
          legend="member={{member}}", w=24)
    l.row("Points")
    l.add("Points issued in the period", f'sum(increase(accrual_points_total{{{acc}, operation=~"{ISSUED}"}}[$__range]))',
          kind="stat", w=6, description="earned on purchases, activities and partners + awarded "
                                          "(welcome, referral, campaign, milestone, goodwill) + manual adjustments up.")
    l.add("Points redeemed (captured) in the period",
          f'sum(increase(accrual_points_total{{{acc}, operation="captured"}}[$__range])) or vector(0)',
          kind="stat", w=6, description="Holds captured by redemption and checkouts.")
    l.add("Points expired in the period",
          f'sum(increase(accrual_points_total{{{acc}, operation="expired"}}[$__range])) or vector(0)',
          kind="stat", w=6)
    l.add("Points clawed back in the period",
          f'sum(increase(accrual_points_total{{{acc}, operation=~"clawed_back|adjusted_down"}}[$__range])) or vector(0)',
          kind="stat", w=6, description="Refunds of purchases that had earned + manual adjustments down.")
    l.add("Points issued per hour by source",
          f'sum by (source) (increase(accrual_points_total{{{acc}, operation=~"{ISSUED}"}}[1h]))',
          legend="{{source}}", w=12)
    l.add("Points out per hour: redeemed, expired, clawed back", [
        (f'sum(increase(accrual_points_total{{{acc}, operation="captured"}}[1h])) or vector(0)', "redeemed"),
        (f'sum(increase(accrual_points_total{{{acc}, operation="expired"}}[1h])) or vector(0)', "expired"),
        (f'sum(increase(accrual_points_total{{{acc}, operation=~"clawed_back|adjusted_down"}}[1h])) or vector(0)', "clawed back")],
        w=12)
    l.add("Campaign and draw points in the period",
          f'sum by (source) (increase(accrual_points_total{{{acc}, operation="awarded", source=~"campaign|draw"}}[$__range]))',
          kind="stat", legend="{{source}}", w=12,
          description="Points awarded with source campaign/draw. Campaign multipliers on purchases "
                      "are inside 'earned'; per-campaign spend vs budget needs "
                      "accrual_campaign_points_total (proposed in docs/metrics.md).")
    l.add("Redemption rate (accrual view): captured / issued",
          f'(sum(increase(accrual_points_total{{{acc}, operation="captured"}}[$__range])) or vector(0)) / '
          f'sum(increase(accrual_points_total{{{acc}, operation=~"{ISSUED}"}}[$__range]))',
          kind="stat", unit="percentunit", w=12)
    l.row("Referrals")
    l.add("Referrals in the period by outcome",
          f"sum by (outcome) (increase(referral_referrals_total{{{ref}}}[$__range]))",
          kind="stat", legend="{{outcome}}", w=12)
    l.add("Referral conversion: rewarded / applied",
          f'sum(increase(referral_referrals_total{{{ref}, outcome="rewarded"}}[$__range])) / '
          f'sum(increase(referral_referrals_total{{{ref}, outcome="applied"}}[$__range]))',
          kind="stat", unit="percentunit", w=6)
    l.add("Referral bonus points in the period",
          f'sum by (role) (increase(referral_points_total{{{ref}, operation="awarded"}}[$__range]))',
          kind="stat", legend="{{role}}", w=6)
    l.row("Redemption")
    l.add("Points redeemed for rewards in the period",
          'sum(increase(redemption_points_total{job="loyalty-redemption", operation="redeemed"}[$__range]))',
          kind="stat", w=8)
    l.add("Redemption rate: redeemed / issued",
          'sum(increase(redemption_points_total{job="loyalty-redemption", operation="redeemed"}[$__range])) / '
          f'sum(increase(accrual_points_total{{{acc}, operation=~"{ISSUED}"}}[$__range]))',
          kind="stat", unit="percentunit", w=8)
    l.add("Redemptions in the period by reward kind",
          'sum by (kind) (increase(redemption_redemptions_total{job="loyalty-redemption", outcome="completed"}[$__range]))',
          kind="stat", legend="{{kind}}", w=8)
    l.row("Notifications")
    l.add("Notification delivery rate by channel",
          'sum by (channel) (increase(notification_notifications_total{job="loyalty-notification", outcome="delivered"}[$__range])) / '
          'sum by (channel) (increase(notification_notifications_total{job="loyalty-notification", outcome=~"delivered|dead"}[$__range]))',
          kind="stat", unit="percentunit", legend="{{channel}}", w=12)
    l.add("Notifications delivered per hour by kind",
          'sum by (kind) (increase(notification_notifications_total{job="loyalty-notification", outcome="delivered"}[1h]))',
          legend="{{kind}}", w=12)
    return dashboard("loyalty-overview", "Loyalty / program overview", ["marketing"], l,
                     "The program for marketers: members, purchases, points by source, referrals, "
                     "redemption. Periods follow the time picker.")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, build in [("overview", overview), ("accrual", accrual), ("referral", referral),
                        ("redemption", redemption), ("notification", notification)]:
        with open(os.path.join(OUT, f"loyalty-{name}.json"), "w") as f:
            json.dump(build(), f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
