//! A small demo library, written for atip (no third-party text): a few documents of
//! each kind, public and internal, English and Spanish, loaded through the folder
//! import like any curator's files.

use crate::kernel::db::Db;
use crate::library::extract::tiny_pdf;

const METADATA: &str = "\
file,url,title,summary,audiences,topics,languages,publisher,published_on,visibility,note
screening.pdf,,Screening questions for clinics,A short set of questions for health-care staff who suspect a patient is being trafficked.,health-care;service-providers,identification-and-screening;health,en,atip demo,2026-02-10,public,Demo
rights.html,,Know your rights at work,What workers can do when an employer keeps their documents or wages.,victims-and-survivors;general-public,labor-trafficking;legal-and-immigration,en,atip demo,2026-01-20,public,Demo
derechos.txt,,Sus derechos en el trabajo,Qué puede hacer si su empleador le quita sus documentos o su salario.,victims-and-survivors,labor-trafficking;legal-and-immigration,es,atip demo,2026-01-20,public,Demo
protocol.txt,,Night shift escalation protocol,When and how an advocate brings in the supervisor on duty.,service-providers,victim-services,en,atip demo,2026-03-05,internal,Demo
,https://example.org/supply-chain-toolkit,Supply chain toolkit,A link to a toolkit for businesses checking their suppliers for forced labor.,businesses,supply-chains,en,atip demo,2025-11-01,public,Demo
";

const RIGHTS: &str = "<!DOCTYPE html><html lang=\"en\"><head><title>Know your rights at work</title></head><body>\
<h1>Know your rights at work</h1>\
<p>Your employer may not keep your passport, visa or identity documents. Doing so can be a crime.</p>\
<p>You must be paid for the hours you work, and you may leave a job. Debts to an employer or recruiter do not change that.</p>\
<p>You can call the hotline at any hour, in your language. You do not have to give your name.</p>\
</body></html>";

const DERECHOS: &str = "Sus derechos en el trabajo. Su empleador no puede quedarse con su pasaporte, \
su visa ni sus documentos de identidad. Hacerlo puede ser un delito. Deben pagarle las horas que \
trabaja y puede dejar un empleo, aunque tenga deudas con el empleador o el reclutador. Puede llamar \
a la línea de ayuda a cualquier hora, en su idioma, sin dar su nombre.";

const PROTOCOL: &str = "Night shift escalation protocol. Bring in the supervisor on duty at once when \
a caller is in immediate danger, when a minor is involved, or before any extraction or emergency \
shelter request. Record the time of each step. If the supervisor does not answer within five \
minutes, call the backup number on the shift schedule.";

/// Writes the demo folder and imports it.
pub async fn seed(db: &Db) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!(
        "atip-demo-library-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    let files: [(&str, Vec<u8>); 5] = [
        ("metadata.csv", METADATA.as_bytes().to_vec()),
        (
            "screening.pdf",
            tiny_pdf("Ask: Can you leave your job if you want to? Who holds your passport?"),
        ),
        ("rights.html", RIGHTS.as_bytes().to_vec()),
        ("derechos.txt", DERECHOS.as_bytes().to_vec()),
        ("protocol.txt", PROTOCOL.as_bytes().to_vec()),
    ];
    let written = files
        .iter()
        .try_for_each(|(name, bytes)| std::fs::write(dir.join(name), bytes));
    let report = match written {
        Ok(()) => crate::library::service::import_dir(db, &dir)
            .await
            .map_err(anyhow::Error::from),
        Err(e) => Err(e.into()),
    };
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(problem) = report?.problems.first() {
        anyhow::bail!("the demo library did not import: {problem}");
    }
    Ok(())
}
