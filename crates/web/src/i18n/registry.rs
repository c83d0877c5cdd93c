//! The words of the registry (sites, terminals, network nodes, import): (key, 日本語, English).

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("registry.per_page", "表示件数", "Rows per page"),
    ("registry.sorted_asc", "（昇順）", " (ascending)"),
    ("registry.sorted_desc", "（降順）", " (descending)"),
    ("registry.required_mark", "（必須）", "(required)"),
    (
        "registry.required_note",
        "（必須）と表示された項目は必ず入力してください。",
        "Fields marked (required) must be filled in.",
    ),
    ("registry.choose", "選択してください", "Choose"),
    ("registry.none", "（なし）", "(none)"),
    ("registry.blank", "（空欄）", "(blank)"),
    ("registry.retired_at", "廃止日時", "Retired at"),
    (
        "registry.retired_notice",
        "この記録は廃止されています。記録と変更履歴は保存されています。",
        "This record is retired. The record and its history are kept.",
    ),
    (
        "registry.retire_help",
        "廃止しても記録と変更履歴は残ります。廃止の理由を入力してください（個人番号・住民票コードは記録できません）。",
        "Retired records and their history are kept. Give the reason (never personal identifiers).",
    ),
    (
        "registry.retire_failed",
        "廃止できませんでした。",
        "The record was not retired.",
    ),
    (
        "registry.q_sites_hint",
        "拠点コード・拠点名・所在地・備考から検索します。",
        "Searches site code, name, address and remarks.",
    ),
    (
        "registry.q_terminals_hint",
        "ホスト名・IPアドレス・OS・拠点コード・拠点名・製造番号・備品番号から検索します（大文字・小文字、全角・半角を区別しません）。",
        "Searches hostname, IP address, OS, site code and name, serial and asset numbers (ignoring case and full/half width).",
    ),
    ("registry.site_code_filter", "拠点コード", "Site code"),
    (
        "registry.site_code_hint",
        "拠点が多いため、拠点コードで絞り込みます（例: S00042）。",
        "There are many sites: filter by site code (e.g. S00042).",
    ),
    (
        "registry.q_nodes_hint",
        "機器名・IPアドレス・拠点名・備考から検索します。",
        "Searches name, IP address, site and remarks.",
    ),
    ("registry.export", "出力", "Export"),
    (
        "registry.export_help",
        "現在の絞り込み条件に該当するすべての行を出力します（出力は監査ログに記録されます）。",
        "Exports every row matching the current filter (recorded in the audit log).",
    ),
    (
        "registry.terminals_here",
        "この拠点の端末",
        "Terminals at this site",
    ),
    (
        "registry.site_path",
        "この拠点から集約ネットワークへの経路",
        "Path from this site into the network",
    ),
    (
        "registry.no_uplink",
        "接続機器が設定されていないため、経路を表示できません。",
        "No uplink node is set, so there is no path to show.",
    ),
    ("registry.root", "最上位", "top"),
    (
        "registry.child_nodes",
        "この機器に接続している下位機器",
        "Nodes connected below this node",
    ),
    (
        "registry.connected_sites",
        "この機器を経由する拠点",
        "Sites connected through this node",
    ),
    ("registry.via", "経由", "Via"),
    ("registry.site_of_node", "設置拠点", "Installed at"),
    ("registry.units", "台", "terminals"),
    (
        "registry.history_none",
        "変更履歴はありません。",
        "No changes recorded.",
    ),
    ("registry.act_create", "登録", "Created"),
    ("registry.act_update", "変更", "Changed"),
    ("registry.act_retire", "廃止", "Retired"),
    (
        "registry.act_import_create",
        "取込（新規）",
        "Imported (new)",
    ),
    (
        "registry.act_import_update",
        "取込（更新）",
        "Imported (update)",
    ),
    ("registry.network_roots", "集約ネットワーク", "Network"),
    (
        "registry.no_nodes",
        "ネットワーク機器が登録されていません。",
        "No network nodes are registered.",
    ),
    (
        "registry.all_connected",
        "すべての拠点に接続機器が設定されています。",
        "Every site has an uplink node.",
    ),
    ("registry.import_kind_terminals", "端末台帳", "Terminals"),
    ("registry.import_kind_sites", "拠点台帳", "Sites"),
    (
        "registry.import_kind_nodes",
        "ネットワーク機器台帳",
        "Network nodes",
    ),
    (
        "registry.import_columns",
        "使用できる列（1行目の見出し）",
        "Columns (header on line 1)",
    ),
    (
        "registry.import_order",
        "ネットワーク機器 → 拠点 → 端末の順に取り込むと、参照先が先に登録されます。",
        "Import nodes first, then sites, then terminals, so that references exist.",
    ),
    ("registry.import_result", "取込結果", "Result"),
    ("registry.import_errors", "誤りのある行", "Rows with errors"),
    (
        "registry.import_no_file",
        "取り込むファイルを選択してください。",
        "Choose a file to import.",
    ),
    (
        "registry.import_bad_kind",
        "取込対象を選択してください。",
        "Choose what to import.",
    ),
    ("registry.whole_row", "（行全体）", "(whole row)"),
];
