//! Notification delivery: POST the signed fields to the merchant's notification URL until the
//! answer is exactly `OK`, recording every attempt.

use super::Sandbox;
use super::state::{DeliveryAttempt, NotificationJob, State};
use crate::unix_now;

impl State {
    /// Queues a notification and returns its id; the caller starts the delivery.
    pub fn queue_notification(
        &mut self,
        oid: &str,
        fields: Vec<(String, String)>,
        duplicate_of: Option<u64>,
    ) -> u64 {
        let id = self.next_id();
        self.notifications.push(NotificationJob {
            id,
            merchant_oid: oid.to_owned(),
            fields,
            attempts: Vec::new(),
            delivered: false,
            gave_up: false,
            duplicate_of,
        });
        id
    }

    /// Marks a queued notification as never to be delivered on its own.
    pub fn give_up(&mut self, id: u64) {
        if let Some(job) = self.job_mut(id) {
            job.gave_up = true;
        }
    }

    fn job_mut(&mut self, id: u64) -> Option<&mut NotificationJob> {
        self.notifications.iter_mut().find(|j| j.id == id)
    }
}

impl Sandbox {
    /// Delivers notification `id` in the background.
    pub(super) fn spawn_delivery(&self, id: u64) {
        let sandbox = self.clone();
        tokio::spawn(async move { sandbox.deliver(id).await });
    }

    /// Sends notification `id` again, as a new delivery of the same signed fields.
    pub fn resend(&self, id: u64) -> bool {
        let copy = self.write(|s| {
            let job = s.notifications.iter().find(|j| j.id == id)?;
            let (oid, fields) = (job.merchant_oid.clone(), job.fields.clone());
            Some(s.queue_notification(&oid, fields, Some(id)))
        });
        copy.map(|copy| self.spawn_delivery(copy)).is_some()
    }

    async fn deliver(&self, id: u64) {
        let Some(url) = self.inner.config.notify_url.clone() else {
            self.write(|s| {
                if let Some(job) = s.job_mut(id) {
                    job.gave_up = true;
                }
            });
            return;
        };
        loop {
            let Some((fields, attempt)) = self.read(|s| {
                let job = s.notifications.iter().find(|j| j.id == id)?;
                (!job.delivered && !job.gave_up)
                    .then(|| (job.fields.clone(), job.attempts.len() as u32 + 1))
            }) else {
                return;
            };
            let (http_status, answer) = match self.inner.http.post(&url).form(&fields).send().await
            {
                Ok(response) => {
                    let status = response.status().as_u16();
                    (Some(status), response.text().await.unwrap_or_default())
                }
                Err(e) => (None, e.without_url().to_string()),
            };
            // PayTR accepts exactly "OK": not "ok", not "OK\n", not an HTML page.
            let ok = http_status.is_some_and(|s| (200..300).contains(&s)) && answer == "OK";
            let knobs = self.knobs();
            let twice = self.write(|s| {
                let job = s.job_mut(id)?;
                job.attempts.push(DeliveryAttempt {
                    attempt,
                    at: unix_now(),
                    http_status,
                    answer: answer.chars().take(200).collect(),
                    ok,
                });
                job.delivered = ok;
                job.gave_up = !ok && attempt >= knobs.notify_max_attempts;
                let first_copy = job.duplicate_of.is_none();
                let (oid, fields) = (job.merchant_oid.clone(), job.fields.clone());
                (ok && knobs.notify_twice && first_copy)
                    .then(|| s.queue_notification(&oid, fields, Some(id)))
            });
            if let Some(copy) = twice {
                self.spawn_delivery(copy);
            }
            if ok || attempt >= knobs.notify_max_attempts {
                return;
            }
            tokio::time::sleep(knobs.notify_interval).await;
        }
    }

    /// Number of deliveries still going on (for tests and the panel).
    pub fn deliveries_pending(&self) -> usize {
        self.read(|s| {
            s.notifications
                .iter()
                .filter(|j| !j.delivered && !j.gave_up)
                .count()
        })
    }
}
