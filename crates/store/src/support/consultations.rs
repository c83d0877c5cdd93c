//! Consultation records (協議記録, R18): what was agreed with the prefecture, linked to the requests it
//! concerned.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{date_text, invalid, not_found, placeholders};
use crate::{Actor, Filter, Param, Result, Store, now};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use unyo_domain::Action;
use unyo_domain::support::ConsultationInput;

// ------------------------------------------------------------------------------------------------ rows

/// A request linked from a consultation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequestLink {
    pub id: i64,
    pub number: String,
    pub title: String,
}

/// A consultation record (協議記録).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Consultation {
    pub id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    /// `YYYY-MM-DD`.
    pub held_on: String,
    pub participants: String,
    pub topic: String,
    pub agreed: String,
    /// Login name of whoever recorded it.
    pub recorded_by: String,
    pub created_at: String,
    #[sqlx(skip)]
    pub requests: Vec<RequestLink>,
}

// ------------------------------------------------------------------------------------------------ in-transaction helpers

/// A consultation's reads that run inside the caller's transaction, for both backends.
trait ConsultationConn {
    async fn check_requests_exist(&mut self, ids: &[i64]) -> Result<()>;
}

macro_rules! consultation_conn {
    ($conn:ty) => {
        impl ConsultationConn for $conn {
            async fn check_requests_exist(&mut self, ids: &[i64]) -> Result<()> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut f = Filter::default();
                let list = placeholders(&mut f, ids);
                let sql = format!("SELECT id FROM requests WHERE id IN ({list})");
                let found: Vec<i64> =
                    bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), f.params)
                        .fetch_all(&mut *self)
                        .await?;
                if ids.iter().all(|id| found.contains(id)) {
                    Ok(())
                } else {
                    Err(invalid(
                        "request_ids",
                        "選択された支援要請が見つかりません。",
                    ))
                }
            }
        }
    };
}
consultation_conn!(sqlx::SqliteConnection);
consultation_conn!(sqlx::PgConnection);

// ------------------------------------------------------------------------------------------------ SQL

const CONSULTATION_SELECT: &str =
    "SELECT k.id, k.contract_id, c.number AS contract_number, k.held_on,
    k.participants, k.topic, k.agreed, k.recorded_by, k.created_at
    FROM consultations k JOIN contracts c ON c.id = k.contract_id";

impl Store {
    async fn finish_consultations(&self, rows: &mut [Consultation]) -> Result<()> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let links: Vec<(i64, i64, String, String)> = self
            .rows_for_ids(
                "SELECT cr.consultation_id, r.id, r.number, r.title FROM consultation_requests cr
                 JOIN requests r ON r.id = cr.request_id WHERE cr.consultation_id IN",
                " ORDER BY r.id",
                &ids,
            )
            .await?;
        for r in rows.iter_mut() {
            r.requests = links
                .iter()
                .filter(|(cid, ..)| *cid == r.id)
                .map(|(_, id, number, title)| RequestLink {
                    id: *id,
                    number: number.clone(),
                    title: title.clone(),
                })
                .collect();
        }
        Ok(())
    }

    /// Records a consultation (協議記録, R18) linked to requests. Needs [`Action::RecordConsultation`].
    pub async fn create_consultation(
        &self,
        actor: &Actor,
        input: &ConsultationInput,
    ) -> Result<Consultation> {
        actor.require(Action::RecordConsultation)?;
        let d = input.validate()?;
        let at = now();
        let id = write_tx!(self, |tx| {
            let contract: Option<i64> =
                sqlx::query_scalar("SELECT id FROM contracts WHERE id = $1")
                    .bind(d.contract_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if contract.is_none() {
                return Err(invalid("contract_id", "選択された契約が見つかりません。"));
            }
            tx.check_requests_exist(&d.request_ids).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO consultations (contract_id, held_on, participants, topic, agreed, recorded_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(d.contract_id)
            .bind(date_text(d.held_on))
            .bind(d.participants.as_str())
            .bind(d.topic.as_str())
            .bind(d.agreed.as_str())
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            for r in &d.request_ids {
                sqlx::query(
                    "INSERT INTO consultation_requests (consultation_id, request_id) VALUES ($1, $2)",
                )
                .bind(id)
                .bind(*r)
                .execute(&mut *tx)
                .await?;
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "consultation.create", "consultation", id).details(
                    json!({
                        "contract_id": d.contract_id, "held_on": date_text(d.held_on),
                        "participants": d.participants, "topic": d.topic, "agreed": d.agreed,
                        "request_ids": d.request_ids,
                    }),
                ),
            )
            .await?;
            id
        });
        self.consultation(id).await
    }

    /// One consultation.
    pub async fn consultation(&self, id: i64) -> Result<Consultation> {
        let sql = format!("{CONSULTATION_SELECT} WHERE k.id = $1");
        let row: Option<Consultation> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(db)
                .await?);
        let mut rows = vec![row.ok_or_else(|| not_found(format!("協議記録 {id}")))?];
        self.finish_consultations(&mut rows).await?;
        Ok(rows.remove(0))
    }

    /// Consultations (of one contract, or all), held within the inclusive range, newest first.
    pub async fn consultations(
        &self,
        contract_id: Option<i64>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<Consultation>> {
        let mut f = Filter::default();
        if let Some(c) = contract_id {
            let p = f.bind(Param::Int(c));
            f.push(format!("k.contract_id = {p}"));
        }
        if let Some(d) = from {
            let p = f.bind(Param::Text(date_text(d)));
            f.push(format!("k.held_on >= {p}"));
        }
        if let Some(d) = to {
            let p = f.bind(Param::Text(date_text(d)));
            f.push(format!("k.held_on <= {p}"));
        }
        let sql = format!(
            "{CONSULTATION_SELECT}{} ORDER BY k.held_on DESC, k.id DESC",
            f.where_clause()
        );
        let mut rows: Vec<Consultation> = read_db!(self, |db| bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?);
        self.finish_consultations(&mut rows).await?;
        Ok(rows)
    }

    /// Consultations linked to a request, oldest first.
    pub async fn consultations_of_request(&self, request_id: i64) -> Result<Vec<Consultation>> {
        let sql = format!(
            "{CONSULTATION_SELECT} WHERE k.id IN (SELECT consultation_id FROM consultation_requests WHERE request_id = $1)
             ORDER BY k.held_on, k.id"
        );
        let mut rows: Vec<Consultation> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(request_id)
                .fetch_all(db)
                .await?);
        self.finish_consultations(&mut rows).await?;
        Ok(rows)
    }
}
