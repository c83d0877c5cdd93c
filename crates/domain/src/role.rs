//! Roles and the explicit permission table.
//!
//! Every write and every sensitive read in unyo asks [`Role::allows`] first. The table below is the one
//! place that says who may do what; a test walks all of it.

use serde::{Deserialize, Serialize};

/// The four roles of R13.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 県管理者: prefecture administrator. Owns accounts and the registry.
    Admin,
    /// 県職員: prefecture staff. Files requests, confirms work, reads the registry.
    Staff,
    /// SE: support engineer of the contractor. Maintains the registry and does the work.
    Se,
    /// 監査: auditor. Reads everything, including the audit log; changes nothing.
    Auditor,
}

impl Role {
    /// All roles, in display order.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Staff, Role::Se, Role::Auditor];

    /// The stored/API name (`admin`, `staff`, `se`, `auditor`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Se => "se",
            Role::Auditor => "auditor",
        }
    }

    /// Parses the stored/API name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The Japanese label shown in the UI.
    pub fn label_ja(self) -> &'static str {
        match self {
            Role::Admin => "県管理者",
            Role::Staff => "県職員",
            Role::Se => "SE",
            Role::Auditor => "監査",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Role::Admin => "Prefecture admin",
            Role::Staff => "Prefecture staff",
            Role::Se => "Support engineer",
            Role::Auditor => "Auditor",
        }
    }

    /// Whether this role may perform `action`, from [`PERMISSIONS`].
    pub fn allows(self, action: Action) -> bool {
        let row = PERMISSIONS
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, row)| row);
        match row {
            Some(row) => row[self.column()],
            None => false,
        }
    }

    fn column(self) -> usize {
        match self {
            Role::Admin => 0,
            Role::Staff => 1,
            Role::Se => 2,
            Role::Auditor => 3,
        }
    }
}

/// Everything a person can ask unyo to do that needs a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read sites, terminals and network nodes.
    ViewRegistry,
    /// Create, edit and retire registry records.
    EditRegistry,
    /// Import the registry from CSV.
    ImportRegistry,
    /// Export the registry (CSV/XLSX). Audited.
    ExportRegistry,
    /// Read the audit log.
    ViewAudit,
    /// Export the audit log. Audited.
    ExportAudit,
    /// Create accounts, change roles, unlock and disable accounts.
    ManageUsers,
    /// Create API tokens for oneself.
    UseApi,
    /// Read support requests, work entries, contracts, consultations and the calendar.
    ViewWork,
    /// File a support request (the prefecture side).
    FileRequest,
    /// Accept a support request, start its work and report its completion (the SE side).
    HandleRequest,
    /// Confirm a request's reported result or send it back with a reason, and withdraw a request before
    /// work starts (the prefecture side).
    SettleRequest,
    /// Record work entries (the SE side).
    LogWork,
    /// Create and edit contracts and their staff.
    ManageContracts,
    /// Record consultations (協議記録).
    RecordConsultation,
    /// Attach evidence files to requests and work entries.
    UploadAttachment,
    /// Download evidence files. Audited.
    DownloadAttachment,
    /// Read incidents (障害), their timelines and figures, and the known-error library.
    ViewIncidents,
    /// Report an incident, comment on one, reopen a closed one.
    ReportIncident,
    /// Work an incident (the SE side): investigation, workaround and guidance, recovery, linking work.
    WorkIncident,
    /// Record the witness of a recovery (立会い), the prefecture's sign-off that lets an incident close.
    /// Not the SE: the SE's own presence at the recovery is evidenced by its recovery entries and work log,
    /// while the witness record is the confirmation of the other party (separation of duties, as with
    /// the confirmation of support requests).
    WitnessRecovery,
    /// Create and edit known errors (既知の障害).
    ManageKnownErrors,
    /// Read terminal inventories (OS, software, antivirus) and their history.
    ViewInventory,
    /// Import inventory files (upload, `unyo inventory import`).
    ImportInventory,
    /// Create and revoke the credentials inventory agents report with.
    ManageAgents,
    /// Work the inventory review queue: link an inventory to a terminal or register one from it.
    ReviewInventory,
    /// Read rollout campaigns (展開), their targets and evidence, and the compliance view (準拠状況).
    ViewCampaigns,
    /// Create and close rollout campaigns, exclude terminals from them (with a reason), and set the
    /// compliance baseline.
    ManageCampaigns,
    /// Attest a campaign target's result (the SE side): 実施済 with a linked work-log entry, or 失敗.
    AttestCampaign,
    /// Confirm the witness (立会い) of an attested campaign target: the prefecture's side.
    WitnessCampaign,
    /// Read connectivity checks (疎通確認), their states, history, events and check-result sheets.
    ViewChecks,
    /// Create and edit connectivity checks and maintenance windows.
    ManageChecks,
    /// Run connectivity checks on demand and produce the 疎通確認結果表.
    RunChecks,
    /// Read monthly work records (業務実績簿) and their versions, preview drafts, download frozen files
    /// (audited) and the annual council pack (審議会資料).
    ViewRecords,
    /// Submit a monthly work record (the SE side): freezes the PDF/XLSX of a new version.
    PrepareRecords,
    /// Confirm a submitted monthly work record or send it back with a reason (the prefecture).
    ConfirmRecords,
    /// Read a contract's registers: subcontracting approvals, provided materials, the staff roster.
    /// Reads of provided-material entries and exports are audited.
    ViewContractRegisters,
    /// Record the prefecture's written approval of subcontracting (再委託の承認).
    ManageSubcontracts,
    /// Register provided materials, ask to copy them and record their return or erasure (the contractor).
    RecordMaterials,
    /// Permit or refuse a copy of a provided material and acknowledge its return (the prefecture).
    ApproveMaterials,
    /// Keep the staff roster (従事者名簿): assignments, pledges, training. An account tied to a roster
    /// entry follows it, so this is the prefecture administrator's.
    ManageStaffRoster,
    /// Export every table, file and the audit chain (`unyo export`, the admin's ZIP). Audited.
    ExportAll,
    /// Read the erasure register (消去記録) and download erasure certificates.
    ViewErasures,
    /// Record an erasure the contractor performed (the SE side, or the admin).
    RecordErasure,
    /// Record contract-close evidence, waive a checklist item with a reason, and close the contract
    /// (the prefecture).
    CloseContract,
    /// Read vulnerability feeds, records, findings and the CPE mapping table (脆弱性).
    ViewVulnerabilities,
    /// Import vulnerability feed files (NVD, JVN, OSV, RustSec) and run the matching.
    ImportFeeds,
    /// Confirm or correct the software→CPE mapping table (the SE's review).
    ReviewCpeMappings,
    /// Work a finding (the SE side): 対応中, 対応済 with evidence, a rollout campaign from it.
    WorkFindings,
    /// Accept a finding's risk (リスク受容) with a consultation record and an expiry: the prefecture's decision.
    AcceptRisk,
}

impl Action {
    /// All actions, in table order.
    pub const ALL: [Action; 50] = [
        Action::ViewRegistry,
        Action::EditRegistry,
        Action::ImportRegistry,
        Action::ExportRegistry,
        Action::ViewAudit,
        Action::ExportAudit,
        Action::ManageUsers,
        Action::UseApi,
        Action::ViewWork,
        Action::FileRequest,
        Action::HandleRequest,
        Action::SettleRequest,
        Action::LogWork,
        Action::ManageContracts,
        Action::RecordConsultation,
        Action::UploadAttachment,
        Action::DownloadAttachment,
        Action::ViewIncidents,
        Action::ReportIncident,
        Action::WorkIncident,
        Action::WitnessRecovery,
        Action::ManageKnownErrors,
        Action::ViewInventory,
        Action::ImportInventory,
        Action::ManageAgents,
        Action::ReviewInventory,
        Action::ViewCampaigns,
        Action::ManageCampaigns,
        Action::AttestCampaign,
        Action::WitnessCampaign,
        Action::ViewChecks,
        Action::ManageChecks,
        Action::RunChecks,
        Action::ViewRecords,
        Action::PrepareRecords,
        Action::ConfirmRecords,
        Action::ViewContractRegisters,
        Action::ManageSubcontracts,
        Action::RecordMaterials,
        Action::ApproveMaterials,
        Action::ManageStaffRoster,
        Action::ExportAll,
        Action::ViewErasures,
        Action::RecordErasure,
        Action::CloseContract,
        Action::ViewVulnerabilities,
        Action::ImportFeeds,
        Action::ReviewCpeMappings,
        Action::WorkFindings,
        Action::AcceptRisk,
    ];

    /// Japanese description used in refusals and the permission page.
    pub fn label_ja(self) -> &'static str {
        match self {
            Action::ViewRegistry => "台帳の閲覧",
            Action::EditRegistry => "台帳の登録・変更・廃止",
            Action::ImportRegistry => "台帳の取込",
            Action::ExportRegistry => "台帳の出力",
            Action::ViewAudit => "監査ログの閲覧",
            Action::ExportAudit => "監査ログの出力",
            Action::ManageUsers => "利用者の管理",
            Action::UseApi => "APIトークンの発行",
            Action::ViewWork => "支援要請・作業記録の閲覧",
            Action::FileRequest => "支援要請の登録",
            Action::HandleRequest => "支援要請の受付・対応開始・完了報告",
            Action::SettleRequest => "支援要請の確認・差戻し・取下げ",
            Action::LogWork => "作業記録の登録",
            Action::ManageContracts => "契約の管理",
            Action::RecordConsultation => "協議記録の登録",
            Action::UploadAttachment => "証跡ファイルの添付",
            Action::DownloadAttachment => "証跡ファイルの取得",
            Action::ViewIncidents => "障害・既知の障害の閲覧",
            Action::ReportIncident => "障害の報告・コメント・再開",
            Action::WorkIncident => "障害対応（原因調査・回避策・復旧作業）",
            Action::WitnessRecovery => "障害復旧の立会い記録",
            Action::ManageKnownErrors => "既知の障害の登録・変更",
            Action::ViewInventory => "端末インベントリの閲覧",
            Action::ImportInventory => "インベントリの取込",
            Action::ManageAgents => "エージェント認証情報の管理",
            Action::ReviewInventory => "インベントリの照合（端末への紐付け・登録）",
            Action::ViewCampaigns => "展開・準拠状況の閲覧",
            Action::ManageCampaigns => "展開の登録・完了・対象外の設定",
            Action::AttestCampaign => "展開の実施結果の申告（SE）",
            Action::WitnessCampaign => "展開の立会い確認",
            Action::ViewChecks => "疎通確認の閲覧",
            Action::ManageChecks => "疎通確認の設定（監視対象・保守時間帯）",
            Action::RunChecks => "疎通確認の実施・結果表の作成",
            Action::ViewRecords => "業務実績簿・審議会資料の閲覧",
            Action::PrepareRecords => "業務実績簿の提出",
            Action::ConfirmRecords => "業務実績簿の確認・差戻し",
            Action::ViewContractRegisters => "再委託・提供資料・従事者名簿の閲覧",
            Action::ManageSubcontracts => "再委託承認の登録",
            Action::RecordMaterials => "提供資料の受領・複製申請・返却の記録",
            Action::ApproveMaterials => "提供資料の複製許可・返却確認",
            Action::ManageStaffRoster => "従事者名簿の管理",
            Action::ExportAll => "全データのエクスポート",
            Action::ViewErasures => "消去記録・消去証明書の閲覧",
            Action::RecordErasure => "消去記録の登録",
            Action::CloseContract => "契約終了の確認・免除・終了",
            Action::ViewVulnerabilities => "脆弱性情報・検出結果の閲覧",
            Action::ImportFeeds => "脆弱性情報の取込・照合",
            Action::ReviewCpeMappings => "ソフトウェアとCPEの対応表の確認・修正",
            Action::WorkFindings => "脆弱性の検出結果への対応（SE）",
            Action::AcceptRisk => "脆弱性のリスク受容（協議記録・期限付き）",
        }
    }
}

const Y: bool = true;
const N: bool = false;

/// The permission table. Columns: 県管理者, 県職員, SE, 監査.
pub const PERMISSIONS: &[(Action, [bool; 4])] = &[
    //                          admin staff se  auditor
    (Action::ViewRegistry, [Y, Y, Y, Y]),
    (Action::EditRegistry, [Y, N, Y, N]),
    (Action::ImportRegistry, [Y, N, Y, N]),
    (Action::ExportRegistry, [Y, Y, Y, Y]),
    (Action::ViewAudit, [Y, N, N, Y]),
    (Action::ExportAudit, [Y, N, N, Y]),
    (Action::ManageUsers, [Y, N, N, N]),
    (Action::UseApi, [Y, Y, Y, Y]),
    (Action::ViewWork, [Y, Y, Y, Y]),
    (Action::FileRequest, [Y, Y, N, N]),
    (Action::HandleRequest, [Y, N, Y, N]),
    (Action::SettleRequest, [Y, Y, N, N]),
    (Action::LogWork, [Y, N, Y, N]),
    (Action::ManageContracts, [Y, N, N, N]),
    (Action::RecordConsultation, [Y, Y, Y, N]),
    (Action::UploadAttachment, [Y, Y, Y, N]),
    (Action::DownloadAttachment, [Y, Y, Y, Y]),
    (Action::ViewIncidents, [Y, Y, Y, Y]),
    (Action::ReportIncident, [Y, Y, Y, N]),
    (Action::WorkIncident, [Y, N, Y, N]),
    (Action::WitnessRecovery, [Y, Y, N, N]),
    (Action::ManageKnownErrors, [Y, N, Y, N]),
    (Action::ViewInventory, [Y, Y, Y, Y]),
    (Action::ImportInventory, [Y, N, Y, N]),
    (Action::ManageAgents, [Y, N, N, N]),
    (Action::ReviewInventory, [Y, N, Y, N]),
    (Action::ViewCampaigns, [Y, Y, Y, Y]),
    (Action::ManageCampaigns, [Y, N, Y, N]),
    (Action::AttestCampaign, [Y, N, Y, N]),
    (Action::WitnessCampaign, [Y, Y, N, N]),
    (Action::ViewChecks, [Y, Y, Y, Y]),
    (Action::ManageChecks, [Y, N, Y, N]),
    (Action::RunChecks, [Y, N, Y, N]),
    (Action::ViewRecords, [Y, Y, Y, Y]),
    (Action::PrepareRecords, [Y, N, Y, N]),
    (Action::ConfirmRecords, [Y, Y, N, N]),
    (Action::ViewContractRegisters, [Y, Y, Y, Y]),
    (Action::ManageSubcontracts, [Y, N, N, N]),
    (Action::RecordMaterials, [Y, N, Y, N]),
    (Action::ApproveMaterials, [Y, Y, N, N]),
    (Action::ManageStaffRoster, [Y, N, N, N]),
    (Action::ExportAll, [Y, N, N, N]),
    (Action::ViewErasures, [Y, Y, Y, Y]),
    (Action::RecordErasure, [Y, N, Y, N]),
    (Action::CloseContract, [Y, Y, N, N]),
    (Action::ViewVulnerabilities, [Y, Y, Y, Y]),
    (Action::ImportFeeds, [Y, N, Y, N]),
    (Action::ReviewCpeMappings, [Y, N, Y, N]),
    (Action::WorkFindings, [Y, N, Y, N]),
    (Action::AcceptRisk, [Y, Y, N, N]),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected matrix written out by hand, role by role, so that a change to the table must be made
    /// twice (here and there) and is therefore deliberate.
    #[test]
    fn permission_table_is_exactly_as_specified() {
        use Action::*;
        let expect = |role: Role| -> Vec<Action> {
            match role {
                Role::Admin => Action::ALL.to_vec(),
                Role::Staff => vec![
                    ViewRegistry,
                    ExportRegistry,
                    UseApi,
                    ViewWork,
                    FileRequest,
                    SettleRequest,
                    RecordConsultation,
                    UploadAttachment,
                    DownloadAttachment,
                    ViewIncidents,
                    ReportIncident,
                    WitnessRecovery,
                    ViewInventory,
                    ViewCampaigns,
                    WitnessCampaign,
                    ViewChecks,
                    ViewRecords,
                    ConfirmRecords,
                    ViewContractRegisters,
                    ApproveMaterials,
                    ViewErasures,
                    CloseContract,
                    ViewVulnerabilities,
                    AcceptRisk,
                ],
                Role::Se => vec![
                    ViewRegistry,
                    EditRegistry,
                    ImportRegistry,
                    ExportRegistry,
                    UseApi,
                    ViewWork,
                    HandleRequest,
                    LogWork,
                    RecordConsultation,
                    UploadAttachment,
                    DownloadAttachment,
                    ViewIncidents,
                    ReportIncident,
                    WorkIncident,
                    ManageKnownErrors,
                    ViewInventory,
                    ImportInventory,
                    ReviewInventory,
                    ViewCampaigns,
                    ManageCampaigns,
                    AttestCampaign,
                    ViewChecks,
                    ManageChecks,
                    RunChecks,
                    ViewRecords,
                    PrepareRecords,
                    ViewContractRegisters,
                    RecordMaterials,
                    ViewErasures,
                    RecordErasure,
                    ViewVulnerabilities,
                    ImportFeeds,
                    ReviewCpeMappings,
                    WorkFindings,
                ],
                Role::Auditor => vec![
                    ViewRegistry,
                    ExportRegistry,
                    ViewAudit,
                    ExportAudit,
                    UseApi,
                    ViewWork,
                    DownloadAttachment,
                    ViewIncidents,
                    ViewInventory,
                    ViewCampaigns,
                    ViewChecks,
                    ViewRecords,
                    ViewContractRegisters,
                    ViewErasures,
                    ViewVulnerabilities,
                ],
            }
        };
        for role in Role::ALL {
            for action in Action::ALL {
                assert_eq!(
                    role.allows(action),
                    expect(role).contains(&action),
                    "{role:?} / {action:?}"
                );
            }
        }
    }

    #[test]
    fn every_action_has_exactly_one_row() {
        for action in Action::ALL {
            let rows = PERMISSIONS.iter().filter(|(a, _)| *a == action).count();
            assert_eq!(rows, 1, "{action:?}");
        }
        assert_eq!(PERMISSIONS.len(), Action::ALL.len());
    }

    #[test]
    fn auditor_never_writes() {
        for action in [
            Action::EditRegistry,
            Action::ImportRegistry,
            Action::ManageUsers,
            Action::FileRequest,
            Action::HandleRequest,
            Action::SettleRequest,
            Action::LogWork,
            Action::ManageContracts,
            Action::RecordConsultation,
            Action::UploadAttachment,
            Action::ReportIncident,
            Action::WorkIncident,
            Action::WitnessRecovery,
            Action::ManageKnownErrors,
            Action::ImportInventory,
            Action::ManageAgents,
            Action::ReviewInventory,
            Action::ManageCampaigns,
            Action::AttestCampaign,
            Action::WitnessCampaign,
            Action::ManageChecks,
            Action::RunChecks,
            Action::PrepareRecords,
            Action::ConfirmRecords,
            Action::ManageSubcontracts,
            Action::RecordMaterials,
            Action::ApproveMaterials,
            Action::ManageStaffRoster,
            Action::ExportAll,
            Action::RecordErasure,
            Action::CloseContract,
            Action::ImportFeeds,
            Action::ReviewCpeMappings,
            Action::WorkFindings,
            Action::AcceptRisk,
        ] {
            assert!(!Role::Auditor.allows(action));
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
